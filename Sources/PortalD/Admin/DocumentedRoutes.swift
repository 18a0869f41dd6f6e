import HTTPServer
import Logging
import Outbox

/// Registers an admin route and its OpenAPI operation in one call, so the served
/// document is built from the very routes the router answers (a test also walks
/// both sides). A scoped group adds `RequireScope` once for all its routes.
struct DocumentedRoutes {
    let group: RouterGroup<AdminContext>
    let document: OpenAPIBuilder
    let prefix: String
    let scope: String?
    let logger: Logger

    /// A sub-group whose routes need `scope`.
    func scoped(_ scope: String) -> DocumentedRoutes {
        DocumentedRoutes(group: group.group(middleware: [RequireScope(scope: scope, logger: logger)]), document: document, prefix: prefix,
                         scope: scope, logger: logger)
    }

    func on(_ method: HTTPMethod, _ path: String, _ operation: APIOperation, _ handler: @escaping Router<AdminContext>.Handler) {
        group.on(method, path, handler)
        document.add(method: method, path: prefix + path, scope: scope, operation: operation)
    }

    func get(_ path: String, _ operation: APIOperation, _ handler: @escaping Router<AdminContext>.Handler) { on(.get, path, operation, handler) }
    func post(_ path: String, _ operation: APIOperation, _ handler: @escaping Router<AdminContext>.Handler) { on(.post, path, operation, handler) }
    func put(_ path: String, _ operation: APIOperation, _ handler: @escaping Router<AdminContext>.Handler) { on(.put, path, operation, handler) }
    func patch(_ path: String, _ operation: APIOperation, _ handler: @escaping Router<AdminContext>.Handler) { on(.patch, path, operation, handler) }
    func delete(_ path: String, _ operation: APIOperation, _ handler: @escaping Router<AdminContext>.Handler) { on(.delete, path, operation, handler) }
}

/// One operation's documentation: what it does, its query parameters and body, its answers.
struct APIOperation {
    var summary: String
    var query: [(name: String, schema: JSONValue, description: String)] = []
    var body: JSONValue?
    var bodyRequired = false
    /// Request headers the operation reads (`If-Match`, a webhook's signature headers).
    var headers: [(name: String, required: Bool, description: String)] = []
    /// Status → (description, schema reference name or nil).
    var responses: [Int: (String, String?)]
    /// Whether its 2xx answers carry the resource's `ETag`.
    var etag = false
    /// The 2xx answers' media type when they are text, not JSON (`/metrics`).
    var text: String?
}

/// Collects operations while routes are registered, then writes the OpenAPI 3 document.
final class OpenAPIBuilder: @unchecked Sendable {  // filled while the router is built, read-only after
    private(set) var operations: [(method: HTTPMethod, path: String, scope: String?, operation: APIOperation)] = []

    func add(method: HTTPMethod, path: String, scope: String?, operation: APIOperation) {
        operations.append((method, path, scope, operation))
    }

    func document(version: String) -> JSONValue {
        var paths: [String: [String: JSONValue]] = [:]
        for entry in operations {
            let pathParameters: [JSONValue] = entry.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { segment in
                let name = String(segment.dropFirst().dropLast())
                return ["name": .string(name), "in": "path", "required": true, "schema": AdminSchemas.pathParameters[name] ?? AdminSchemas.string]
            }
            let queryParameters: [JSONValue] = entry.operation.query.map { parameter in
                ["name": .string(parameter.name), "in": "query", "required": false, "schema": parameter.schema,
                 "description": .string(parameter.description)]
            }
            let headerParameters: [JSONValue] = entry.operation.headers.map { header in
                ["name": .string(header.name), "in": "header", "required": .bool(header.required), "schema": AdminSchemas.headerParameters[header.name] ?? AdminSchemas.string,
                 "description": .string(header.description)]
            }
            var responses: [String: JSONValue] = [:]
            for (status, (description, schema)) in entry.operation.responses {
                var response: [String: JSONValue] = ["description": .string(description)]
                if let schema { response["content"] = ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(schema)")]]] }
                if let text = entry.operation.text, (200..<300).contains(status) { response["content"] = .object([text: ["schema": ["type": "string"]]]) }
                var headers: [String: JSONValue] = [:]
                // A token's answers say how much of its minute is left (not the local CLI token's: it has no limit).
                if entry.scope != nil { for name in AdminSchemas.rateLimitHeaders { headers[name] = ["$ref": .string("#/components/headers/\(name)")] } }
                if entry.operation.etag, (200..<300).contains(status) { headers["ETag"] = ["$ref": "#/components/headers/ETag"] }
                if !headers.isEmpty { response["headers"] = .object(headers) }
                responses[String(status)] = .object(response)
            }
            if entry.scope != nil {
                responses["401"] = ["$ref": "#/components/responses/Unauthorized"]
                responses["403"] = ["$ref": "#/components/responses/Forbidden"]
                responses["429"] = ["$ref": "#/components/responses/TooManyFailures"]
            }
            var operation: [String: JSONValue] = [
                "summary": .string(entry.operation.summary + (entry.scope.map { " (scope \($0))" } ?? "")),
                "operationId": .string(Self.operationID(entry.method, entry.path)),
                "responses": .object(responses),
            ]
            if let scope = entry.scope {
                operation["security"] = [["bearer": []]]
                operation["x-required-scope"] = .string(scope)
            } else {
                operation["security"] = []
            }
            let parameters = pathParameters + queryParameters + headerParameters
            if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
            if let body = entry.operation.body {
                operation["requestBody"] = ["required": .bool(entry.operation.bodyRequired), "content": ["application/json": ["schema": body]]]
            }
            paths[entry.path, default: [:]][entry.method.rawValue.lowercased()] = .object(operation)
        }
        return [
            "openapi": "3.0.3",
            "info": ["title": "portald admin API", "version": .string(version)],
            "components": AdminSchemas.components,
            "paths": .object(paths.mapValues { .object($0) }),
        ]
    }

    static func operationID(_ method: HTTPMethod, _ path: String) -> String {
        let words = path.split(separator: "/").dropFirst(path.hasPrefix(AdminAPI.prefix + "/") ? 2 : 0).map { $0.replacingOccurrences(of: "{", with: "by_").replacingOccurrences(of: "}", with: "") }
        return ([method.rawValue.lowercased()] + words).joined(separator: "_").replacingOccurrences(of: "-", with: "_")
    }
}
