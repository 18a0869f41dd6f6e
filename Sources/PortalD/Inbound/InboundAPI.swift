import Foundation
import HTTPServer
import Logging

/// `[inbound_listener] listen`: `POST /api/v1/inbound/{source_id}` alone, for the
/// hotel's reverse proxy to expose to the PMS, while the admin API stays on loopback.
final class InboundAPI: HTTPResponder {
    private let responder: RouterResponder<AdminContext>

    init(controller: InboundController, metrics: PortalMetrics? = nil, logger: Logger) {
        let router = Router(context: AdminContext.self, errors: { error, _ in .plainJSON(error) }, unexpected: { error, request in
            let id = HTTPError.newRequestID()
            logger.error("inbound request failed", metadata: ["path": "\(request.path)", "error": "\(error)", "request_id": "\(id)"])
            return .internalError(requestID: id)
        })
        // The same route as on the admin listener; its document is the admin API's.
        controller.addRoutes(to: DocumentedRoutes(group: router.group(AdminAPI.prefix, execution: .offloaded), document: OpenAPIBuilder(),
                                                  prefix: AdminAPI.prefix, scope: nil, logger: logger))
        responder = router.responder(observer: metrics?.requests(listener: "inbound"))
    }

    func respond(to request: HTTPRequest) -> HTTPReply { responder.respond(to: request) }
    func respond(to error: HTTPError, for request: HTTPRequest) -> HTTPResponse { .plainJSON(error) }
}
