import HTTPServer

/// `GET /metrics`: Prometheus' text format 0.0.4, on the admin listener. Open on a
/// loopback listener unless `[admin] metrics_token`; else it needs `metrics:read`.
struct MetricsController {
    let scrape: MetricsScrape

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func addRoutes(to routes: DocumentedRoutes) {
        routes.get("/metrics", APIOperation(summary: "Prometheus metrics (text format 0.0.4): sessions, logins, HTTP, outbox, firewall, arrivals, process",
                                            responses: [200: ("the metrics", nil)], text: "text/plain; version=0.0.4")) { _, _ in
            HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", Self.contentType), ("Cache-Control", "no-store")]),
                         body: try scrape.scrape())
        }
    }
}
