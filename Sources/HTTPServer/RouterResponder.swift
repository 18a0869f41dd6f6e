/// A finished router: matches a request, builds its context, runs the route's
/// middleware and handler, and renders what they throw.
public struct RouterResponder<Context: RequestContext>: HTTPResponder {
    let root: RouteTrie<Context>.Node
    let errors: Router<Context>.ErrorRenderer
    let unexpected: Router<Context>.UnexpectedErrorHandler
    let observer: (any RequestObserver)?

    public func respond(to request: HTTPRequest) -> HTTPReply {
        guard let observer else { return route(request) }
        let started = ContinuousClock.now
        var pattern = RequestObservation.unmatched
        switch route(request, pattern: &pattern) {
        case .now(let response):
            observer.observe(RequestObservation(route: pattern, status: response.status, duration: .now - started))
            return .now(response)
        case .later(let work):
            return .later { [pattern] in
                let response = work()
                observer.observe(RequestObservation(route: pattern, status: response.status, duration: .now - started))
                return response
            }
        }
    }

    private func route(_ request: HTTPRequest) -> HTTPReply {
        var pattern = ""
        return route(request, pattern: &pattern)
    }

    private func route(_ request: HTTPRequest, pattern: inout String) -> HTTPReply {
        let segments = request.pathSegments
        var parameters = Parameters()
        guard let node = root.match(segments[...], &parameters) else {
            return .now(errors(.notFound("There is nothing at this address."), request))
        }
        let route = node.routes[request.method] ?? (request.method == .head ? node.routes[.get] : nil)
        pattern = node.routes.values.first?.pattern ?? pattern
        guard let route else {
            var allowed = node.routes.keys.map(\.rawValue)
            if node.routes[.get] != nil { allowed.append("HEAD") }
            let allow = allowed.sorted().joined(separator: ", ")
            return .now(errors(HTTPError(405, code: "method_not_allowed", message: "\(request.method) is not allowed here; use \(allow)",
                                         headers: ["Allow": allow]), request))
        }
        var context = Context(request: request)
        context.parameters = parameters
        let ready = context
        switch route.execution {
        case .inline: return .now(run(route, request, ready))
        case .offloaded: return .later { run(route, request, ready) }
        }
    }

    public func respond(to error: HTTPError, for request: HTTPRequest) -> HTTPResponse {
        errors(error, request)
    }

    private func run(_ route: Route<Context>, _ request: HTTPRequest, _ context: Context) -> HTTPResponse {
        do {
            return try route.run(request, context)
        } catch let error as any HTTPErrorConvertible where error.httpError.status != 500 {
            return errors(error.httpError, request)
        } catch {
            // Including a 500 a handler chose: its details go to the log, not to the caller.
            return errors(unexpected(error, request), request)
        }
    }
}

/// The routing table as a tree of path segments: a lookup costs one step per
/// segment, however many routes there are. A literal segment wins over a
/// parameter (`/outbox/stats` before `/outbox/{id}`), backtracking when the
/// literal branch has no route for the rest of the path.
final class RouteTrie<Context: RequestContext> {
    final class Node: @unchecked Sendable {  // mutated only while the router is built
        var literals: [String: Node] = [:]
        var parameter: (name: String, node: Node)?
        var routes: [HTTPMethod: Route<Context>] = [:]

        func match(_ segments: ArraySlice<String>, _ parameters: inout Parameters) -> Node? {
            guard let segment = segments.first else { return routes.isEmpty ? nil : self }
            if let literal = literals[segment], let found = literal.match(segments.dropFirst(), &parameters) {
                return found
            }
            if let (name, node) = parameter {
                var attempt = parameters
                attempt[name] = segment
                if let found = node.match(segments.dropFirst(), &attempt) {
                    parameters = attempt
                    return found
                }
            }
            return nil
        }
    }

    private let root = Node()
    /// Set once a responder holds the tree: from then on threads read it, so no route may be added.
    private var isFrozen = false

    func insert(segments: ArraySlice<String>, method: HTTPMethod, route: Route<Context>) {
        precondition(!isFrozen, "routes must be added before the router's responder() is made")
        var node = root
        for segment in segments {
            if segment.hasPrefix("{") && segment.hasSuffix("}") {
                let name = String(segment.dropFirst().dropLast())
                if let existing = node.parameter {
                    precondition(existing.name == name, "parameter {\(name)} clashes with {\(existing.name)} at the same place")
                    node = existing.node
                } else {
                    let child = Node()
                    node.parameter = (name, child)
                    node = child
                }
            } else {
                let child = node.literals[segment] ?? Node()
                node.literals[segment] = child
                node = child
            }
        }
        node.routes[method] = route
    }

    func frozen() -> Node {
        isFrozen = true
        return root
    }
}
