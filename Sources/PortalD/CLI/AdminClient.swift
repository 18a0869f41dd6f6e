import Foundation
import HTTPServer
import Outbox
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `{"error": {"code", "message"}}`, the shape of every admin API error.
struct APIError: Decodable {
    struct Body: Decodable {
        var code: String
        var message: String
    }
    var error: Body
}

/// The CLI's way into the running daemon: its admin API on the configured listener,
/// with the local token portald wrote at start.
struct AdminClient {
    let base: String
    let token: String

    /// The `CLIError` code of a daemon that did not answer at all.
    static let unreachable = "unreachable"
    /// The code of one that took the connection but did not answer in time (hung, or swamped).
    static let timedOut = "timed_out"

    /// `http://host:port` of the admin listener, as this machine reaches it.
    static func base(of config: Config) -> String {
        var host = config.admin.listen.host
        if host == "0.0.0.0" { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        return host.contains(":") ? "http://[\(host)]:\(config.admin.listen.port)" : "http://\(host):\(config.admin.listen.port)"
    }

    init(base: String, token: String) {
        self.base = base
        self.token = token
    }

    init(config: Config, tokenFile: String?) throws {
        base = Self.base(of: config)
        do {
            token = try LocalToken.read(path: tokenFile ?? config.admin.tokenFile)
        } catch let error as ConfigError {
            throw CLIError(error.description)
        }
    }

    /// Sends a request; a non-2xx answer becomes a `CLIError` with the API's message.
    func send(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        try await exchange(method, path, body: body).data
    }

    /// `send`, also giving the 2xx status (201 created vs 200 updated).
    func exchange(_ method: String, _ path: String, body: Data? = nil) async throws -> (data: Data, status: Int) {
        guard let url = URL(string: base + path) else { throw CLIError("bad admin URL \(base + path)") }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.connectionProxyDictionary = [:]
        let session = URLSession(configuration: configuration)
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await session.data(for: request)
        } catch let error as URLError where error.code == .timedOut {
            throw CLIError("portald's admin API at \(base) did not answer within 10 s (a hung portald, or packets to that address dropped)",
                           code: Self.timedOut)
        } catch {
            throw CLIError("cannot reach portald's admin API at \(base): \(error.localizedDescription) (is the service running?)",
                           code: Self.unreachable)
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            if let apiError = try? JSONDecoder().decode(APIError.self, from: data) {
                throw CLIError(apiError.error.message, code: apiError.error.code)
            }
            throw CLIError("admin API answered HTTP \(status)")
        }
        return (data, status)
    }
}
