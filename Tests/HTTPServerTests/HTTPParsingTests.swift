import Testing
@testable import HTTPServer

@Suite("forms, queries and routing")
struct HTTPParsingTests {
    @Test func formDecoding() {
        let form = FormData(query: "a=1&b=hello+world&c=%C3%A9t%C3%A9&a=2&empty=&flag&bad=%zz%4")
        #expect(form["a"] == "1")
        #expect(form.all("a") == ["1", "2"])
        #expect(form["b"] == "hello world")
        #expect(form["c"] == "été")
        #expect(form["empty"] == "")
        #expect(form["flag"] == "")
        #expect(form["bad"] == "%zz%4")
        #expect(form["missing"] == nil)
    }

    @Test func formEncodingRoundTrips() {
        let original = FormData([("url", "http://example.com/a?b=c&d=e f"), ("name", "Zoë & co")])
        #expect(original.encoded == "url=http%3A%2F%2Fexample.com%2Fa%3Fb%3Dc%26d%3De%20f&name=Zo%C3%AB%20%26%20co")
        #expect(FormData(query: original.encoded) == original)
    }

    @Test func requestTargetSplitsPathAndQuery() {
        let request = HTTPRequest(method: "GET", target: "/arrive/ab%20c?x=1&y=%2F")
        #expect(request.path == "/arrive/ab c")
        #expect(request.query["x"] == "1")
        #expect(request.query["y"] == "/")
        #expect(request.form == nil)
        var post = HTTPRequest(method: "POST", target: "/login", headers: HTTPHeaders([("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")]),
                               body: Array("accept=yes".utf8))
        #expect(post.form?["accept"] == "yes")
        post.headers = HTTPHeaders([("content-type", "application/json")])
        #expect(post.form == nil)
    }

    @Test func headersIgnoreCase() {
        let headers = HTTPHeaders([("Content-Type", "a"), ("X-Two", "b")])
        #expect(headers["content-type"] == "a")
        #expect(headers["X-TWO"] == "b")
        #expect(headers["missing"] == nil)
    }

    struct Context: RequestContext {
        var parameters = Parameters()
        var user: String?
        init(request: HTTPRequest) {}
    }

    func responder() -> RouterResponder<Context> {
        let router = Router(context: Context.self, errors: { error, _ in
            var response = HTTPResponse.text(error.code, status: error.status)
            for (name, value) in error.headers { response.headers.add(name, value) }
            return response
        })
        router.get("/") { _, _ in .text("root") }
        router.get("/arrive/{token}") { _, context in .text("arrive " + (context.parameters["token"] ?? "")) }
        router.post("/arrive/{token}/guests") { _, context in .text("guests " + (context.parameters["token"] ?? "")) }
        router.post("/login/terms") { _, _ in .text("login") }
        // A group with shared middleware: it runs once for every route in it.
        let api = router.group("/api").add(middleware: MiddlewareClosure { request, context, next in
            guard request.headers["x-user"] != nil else { throw HTTPError(401, code: "unauthorized", message: "who?") }
            var context = context
            context.user = request.headers["x-user"]
            return try next(request, context)
        })
        api.get("/me") { _, context in .text("me " + (context.user ?? "-")) }
        api.get("/items/stats") { _, _ in .text("stats") }
        api.get("/items/{id}") { _, context in .text("item " + (try context.parameters.require("id"))) }
        api.post("/items/{id}/fail") { _, _ in throw HTTPError.unprocessable("bad_item", "no") }
        return router.responder()
    }

    @Test func routing() {
        let responder = responder()
        func body(_ method: HTTPMethod, _ target: String, headers: [(String, String)] = []) -> (Int, String) {
            guard case .now(let response) = responder.respond(to: HTTPRequest(method: method, target: target, headers: HTTPHeaders(headers))) else {
                return (0, "deferred")
            }
            return (response.status, String(decoding: response.body, as: UTF8.self))
        }
        #expect(body("GET", "/") == (200, "root"))
        #expect(body("HEAD", "/") == (200, "root"))
        #expect(body("GET", "/arrive/tok123?x=1") == (200, "arrive tok123"))
        #expect(body("GET", "/arrive/a%2Fb") == (200, "arrive a/b"))
        #expect(body("POST", "/arrive/tok123/guests") == (200, "guests tok123"))
        #expect(body("GET", "/arrive") == (404, "not_found"))
        #expect(body("GET", "/arrive/a/b/c") == (404, "not_found"))
        #expect(body("GET", "/login/terms") == (405, "method_not_allowed"))
        #expect(body("DELETE", "/") == (405, "method_not_allowed"))
        #expect(body("GET", "/api/me") == (401, "unauthorized"))
        #expect(body("GET", "/api/me", headers: [("X-User", "ana")]) == (200, "me ana"))
        #expect(body("GET", "/api/items/stats", headers: [("X-User", "ana")]) == (200, "stats"))
        #expect(body("GET", "/api/items/7", headers: [("X-User", "ana")]) == (200, "item 7"))
        #expect(body("POST", "/api/items/7/fail", headers: [("X-User", "ana")]) == (422, "bad_item"))
        guard case .now(let notAllowed) = responder.respond(to: HTTPRequest(method: "PUT", target: "/arrive/x")) else { return }
        #expect(notAllowed.headers["allow"] == "GET, HEAD")
    }
}
