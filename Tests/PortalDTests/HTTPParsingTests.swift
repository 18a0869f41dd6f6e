import Testing
@testable import PortalD

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

    func router() -> Router {
        var router = Router(notFound: { _ in .text("nf", status: 404) },
                            methodNotAllowed: { _, allowed in .text(allowed.joined(separator: ","), status: 405) })
        router.get("/") { _ in .text("root") }
        router.get("/arrive/:token") { .text("arrive " + ($0.parameters["token"] ?? "")) }
        router.post("/arrive/:token/guests") { .text("guests " + ($0.parameters["token"] ?? "")) }
        router.post("/login/terms") { _ in .text("login") }
        return router
    }

    @Test func routing() {
        let router = router()
        func body(_ method: String, _ target: String) -> (Int, String) {
            let response = router.handle(HTTPRequest(method: method, target: target))
            return (response.status, String(decoding: response.body, as: UTF8.self))
        }
        #expect(body("GET", "/") == (200, "root"))
        #expect(body("HEAD", "/") == (200, "root"))
        #expect(body("GET", "/arrive/tok123?x=1") == (200, "arrive tok123"))
        #expect(body("POST", "/arrive/tok123/guests") == (200, "guests tok123"))
        #expect(body("GET", "/arrive") == (404, "nf"))
        #expect(body("GET", "/arrive/a/b/c") == (404, "nf"))
        #expect(body("GET", "/login/terms") == (405, "POST"))
        #expect(body("DELETE", "/") == (405, "GET"))
    }
}
