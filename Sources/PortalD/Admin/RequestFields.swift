import Foundation
import HTTPServer
import Outbox

/// An admin request's JSON object body, read field by field: errors are 422 naming the field.
struct RequestFields {
    let object: [String: JSONValue]

    static func invalid(_ field: String, _ message: String) -> HTTPError { .invalidField(field, message) }

    /// `fixed`: fields that exist but cannot be changed here (named as such); `shape`: the
    /// object expected, for the 400 a body that is not one gets.
    init(_ body: [UInt8], allowed: Set<String>, fixed: Set<String> = [], shape: String = "a JSON object") throws {
        let value: JSONValue
        do { value = try JSONReader.read(body) } catch { throw HTTPError.badRequest("invalid_json", error.explained(shape: shape)) }
        guard case .object(let object) = value else {
            throw HTTPError.badRequest("invalid_json", "the body must be \(shape)")
        }
        if let field = object.keys.sorted().first(where: { fixed.contains($0) }) {
            throw Self.invalid(field, "cannot be changed; make a new endpoint instead")
        }
        if let field = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw Self.invalid(field, "unknown field (known: \(allowed.sorted().joined(separator: ", ")))")
        }
        self.object = object
    }

    func has(_ field: String) -> Bool { object[field] != nil }

    func url() throws -> URL? {
        guard let value = object["url"] else { return nil }
        guard case .string(let text) = value, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host?.isEmpty == false, text.count <= 2048 else {
            throw Self.invalid("url", "must be an http(s) URL with a host")
        }
        return url
    }

    func topics() throws -> [String]? {
        guard let value = object["topics"] else { return nil }
        guard case .array(let items) = value, !items.isEmpty, items.count <= 64 else { throw Self.invalid("topics", "a list of 1 to 64 topics") }
        return try items.map { item in
            guard case .string(let topic) = item, TopicPattern.isValid(topic) else {
                throw Self.invalid("topics", "each a topic like \"wifi.*\", \"arrival.arrived\" or \"*\"")
            }
            return topic
        }
    }

    func choice<E: RawRepresentable & CaseIterable>(_ field: String, default fallback: E) throws -> E where E.RawValue == String {
        guard let value = object[field] else { return fallback }
        guard case .string(let text) = value, let choice = E(rawValue: text) else {
            throw Self.invalid(field, "one of \(E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        return choice
    }

    func apiVersion() throws -> String {
        guard let value = object["apiVersion"] else { return "1" }
        guard case .string("1") = value else { throw Self.invalid("apiVersion", "\"1\" is the only payload version so far") }
        return "1"
    }

    func integer(_ field: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = object[field] else { return nil }
        guard case .number(let number) = value, number.rounded() == number, let integer = Int(exactly: number), range.contains(integer) else {
            throw Self.invalid(field, "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return integer
    }
}
