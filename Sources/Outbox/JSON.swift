import Foundation

/// The JSON portald speaks everywhere (envelopes, admin API, CLI): RFC 3339 times
/// in UTC, sorted keys, slashes unescaped. Defined once, here, because the webhook
/// envelope is where its rules are part of a contract.
public enum JSON {
    public static func encode<T: Encodable>(_ value: T) -> Data { Data(bytes(value)) }

    /// `encode`'s bytes, without the trip through `Data`.
    public static func bytes<T: Encodable>(_ value: T) -> [UInt8] {
        if let value = value as? any JSONRepresentable { return value.json.bytes }
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.date(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time: \(text)"))
            }
            return date
        }
        return decoder
    }
}

public enum RFC3339 {
    public static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt))
    }

    public static func date(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: false).parse(text))
            ?? (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
    }
}
