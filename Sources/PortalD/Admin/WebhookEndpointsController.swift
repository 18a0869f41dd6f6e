import Foundation
import HTTPServer
import Outbox

/// An endpoint as `/api/v1/webhook-endpoints` shows it. `contentType` and `apiVersion`
/// are spelt as in Lucca's resource, which integrators of this API know; `secret` only
/// in the answer that made it (creation, rotation).
struct WebhookEndpointView: Encodable {
    var endpoint: WebhookEndpoint
    var secret: String?

    enum CodingKeys: String, CodingKey {
        case id, url, topics, status, contentType, apiVersion, ordering, managedBy = "managed_by", createdAt = "created_at",
             updatedAt = "updated_at", secret, previousSecretExpiresAt = "previous_secret_expires_at"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(endpoint.id, forKey: .id)
        try container.encode(endpoint.url.absoluteString, forKey: .url)
        try container.encode(endpoint.topics, forKey: .topics)
        try container.encode(endpoint.status.rawValue, forKey: .status)
        try container.encode(endpoint.contentType.rawValue, forKey: .contentType)
        try container.encode(endpoint.apiVersion, forKey: .apiVersion)
        try container.encode(endpoint.ordering.rawValue, forKey: .ordering)
        try container.encode(endpoint.managedBy.rawValue, forKey: .managedBy)
        try container.encode(endpoint.createdAt, forKey: .createdAt)
        try container.encode(endpoint.updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(secret, forKey: .secret)
        try container.encode(endpoint.secrets.dropFirst().first?.validUntil, forKey: .previousSecretExpiresAt)
    }
}

extension ManagedEndpoints.Failure: HTTPErrorConvertible {
    public var httpError: HTTPError {
        switch self {
        case .notFound(let id): HTTPError.notFound("no webhook endpoint \(id)")
        case .readOnly(let id): HTTPError(409, code: "managed_by_config", message: "endpoint \(id) is defined in the configuration file; change it there")
        case .revisionMismatch(let current):
            HTTPError(412, code: "precondition_failed", message: "the endpoint changed since that ETag; it is now \"\(current)\" (GET it again)")
        case .rotationInProgress(let until):
            HTTPError(409, code: "rotation_in_progress", message: "the previous secret still signs until \(RFC3339.string(until)); rotate again after that")
        case .idTaken(let id):
            HTTPError(409, code: "id_taken", message: "endpoint \(id) is both stored and in the configuration file")
        }
    }
}

/// `/api/v1/webhook-endpoints…`: receivers of events, managed by API.
struct WebhookEndpointsController {
    let repository: any OutboxRepository

    func addRoutes(to api: DocumentedRoutes) {
        let read = api.scoped(AdminScope.webhooksRead)
        read.get("/webhook-endpoints", APIOperation(summary: "Every endpoint: the config file's (read-only) and the API's; never a secret",
                                                     responses: [200: ("endpoints", "WebhookEndpointList")])) { _, _ in
            .json(["webhook_endpoints": repository.endpoints.map { WebhookEndpointView(endpoint: $0) }])
        }
        read.get("/webhook-endpoints/{id}", APIOperation(summary: "One endpoint, with its ETag", responses: [
            200: ("endpoint", "WebhookEndpoint"), 404: ("no such endpoint", "Error"),
        ], etag: true)) { _, context in
            let id = try context.parameters.require("id")
            guard let endpoint = repository.endpoints.first(where: { $0.id == id }) else { throw ManagedEndpoints.Failure.notFound(id) }
            return Self.answer(endpoint)
        }

        let write = api.scoped(AdminScope.webhooksWrite)
        write.post("/webhook-endpoints", APIOperation(summary: "Make an endpoint; its whsec_ secret is in this answer only",
                                                      body: AdminSchemas.ref("WebhookEndpointRequest"), bodyRequired: true, responses: [
            201: ("the endpoint, with its secret", "WebhookEndpoint"), 400: ("not a JSON object", "Error"),
            422: ("a field is wrong; error.field names it", "Error"),
        ], etag: true)) { request, _ in
            let body = try RequestFields(request.body, allowed: ["url", "topics", "status", "contentType", "apiVersion", "ordering"])
            guard let url = try body.url(), let topics = try body.topics() else {
                throw RequestFields.invalid(body.has("url") ? "topics" : "url", "required")
            }
            let (endpoint, secret) = try repository.managed.create(
                url: url, topics: topics, status: try body.choice("status", default: WebhookEndpoint.Status.active),
                contentType: try body.choice("contentType", default: WebhookEndpoint.ContentType.standard),
                apiVersion: try body.apiVersion(), ordering: try body.choice("ordering", default: WebhookEndpoint.Ordering.ordered))
            return Self.answer(endpoint, secret: secret, status: 201)
        }
        write.patch("/webhook-endpoints/{id}", APIOperation(summary: "Change url, topics or status; If-Match: the ETag of the version changed",
                                                            body: AdminSchemas.ref("WebhookEndpointPatch"), bodyRequired: true,
                                                            headers: [("If-Match", true, "the ETag of the endpoint as read (a list, or * for any version)")], responses: [
            200: ("the endpoint", "WebhookEndpoint"), 400: ("not a JSON object", "Error"), 404: ("no such endpoint", "Error"),
            409: ("defined in the config file", "Error"), 412: ("If-Match names an older version", "Error"), 422: ("a field is wrong; error.field names it", "Error"),
            428: ("If-Match is missing", "Error"),
        ], etag: true)) { request, context in
            let id = try context.parameters.require("id")
            let body = try RequestFields(request.body, allowed: ["url", "topics", "status"],
                                          fixed: ["contentType", "apiVersion", "ordering", "id", "secret"])
            // Known and changeable first: a config endpoint is 409, an unknown one 404, whatever If-Match says.
            guard let current = repository.endpoints.first(where: { $0.id == id }) else { throw ManagedEndpoints.Failure.notFound(id) }
            guard current.managedBy == .api else { throw ManagedEndpoints.Failure.readOnly(id) }
            let revision = try Self.revision(request, current: current.revision)
            let endpoint = try repository.managed.update(id: id, revision: revision, url: try body.url(), topics: try body.topics(),
                                                         status: body.has("status") ? try body.choice("status", default: WebhookEndpoint.Status.active) : nil)
            return Self.answer(endpoint)
        }
        write.delete("/webhook-endpoints/{id}", APIOperation(summary: "Delete an endpoint; its undelivered events are marked dead", responses: [
            204: ("deleted", nil), 404: ("no such endpoint", "Error"), 409: ("defined in the config file", "Error"),
        ])) { _, context in
            try repository.managed.delete(id: try context.parameters.require("id"))
            return HTTPResponse(status: 204)
        }
        write.post("/webhook-endpoints/{id}/rotate-secret", APIOperation(
            summary: "A new secret, in this answer only; the old one keeps signing beside it for the grace period (default 24 h)",
            body: AdminSchemas.ref("RotateSecretRequest"), responses: [
                200: ("the endpoint, with its new secret", "WebhookEndpoint"), 400: ("not a JSON object", "Error"), 404: ("no such endpoint", "Error"),
                409: ("defined in the config file", "Error"), 422: ("a field is wrong", "Error"),
            ], etag: true)) { request, context in
            let body = try RequestFields(request.body.isEmpty ? Array("{}".utf8) : request.body, allowed: ["grace_period_seconds"])
            let grace = try body.integer("grace_period_seconds", in: 0...(30 * 86400)) ?? 86400
            let (endpoint, secret) = try repository.managed.rotateSecret(id: try context.parameters.require("id"), grace: TimeInterval(grace))
            return Self.answer(endpoint, secret: secret)
        }
    }

    static func answer(_ endpoint: WebhookEndpoint, secret: String? = nil, status: Int = 200) -> HTTPResponse {
        var response = HTTPResponse.json(WebhookEndpointView(endpoint: endpoint, secret: secret), status: status)
        response.headers.add("ETag", "\"\(endpoint.revision)\"")
        return response
    }

    /// The revision `If-Match` holds to (RFC 9110 §13.1.1: strong comparison, a list
    /// matches if any entry does, `*` matches any: nil). A weak tag never matches.
    static func revision(_ request: HTTPRequest, current: Int) throws -> Int? {
        guard let header = request.headers["if-match"]?.trimmingCharacters(in: .whitespaces), !header.isEmpty else {
            throw HTTPError(428, code: "precondition_required", message: "send If-Match with the ETag of the endpoint you read (GET it first)")
        }
        if header == "*" { return nil }
        let tags = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if tags.contains("\"\(current)\"") { return current }
        throw ManagedEndpoints.Failure.revisionMismatch(current: current)
    }
}
