import Foundation
import Synchronization

/// The endpoints events go to: those of the config file, then those made through the
/// API, in creation order. The dispatcher watches it, so an endpoint created, changed
/// or deleted through the API takes effect without a restart.
public final class EndpointRegistry: Sendable {
    let endpoints: Mutex<[WebhookEndpoint]>
    /// Signalled after every change.
    let changed = WakeUp()

    init(_ endpoints: [WebhookEndpoint]) {
        self.endpoints = Mutex(endpoints)
    }

    public var all: [WebhookEndpoint] { endpoints.withLock { $0 } }

    public func endpoint(_ id: String) -> WebhookEndpoint? { endpoints.withLock { $0.first { $0.id == id } } }

    /// Puts `endpoint` in place of the one with its id, or adds it at the end.
    func put(_ endpoint: WebhookEndpoint) {
        endpoints.withLock { list in
            if let index = list.firstIndex(where: { $0.id == endpoint.id }) { list[index] = endpoint } else { list.append(endpoint) }
        }
        changed.signal()
    }

    func remove(_ id: String) {
        endpoints.withLock { $0.removeAll { $0.id == id } }
        changed.signal()
    }
}

extension EndpointRegistry {
    /// A reload's endpoints from the config file in place of the running ones; those made
    /// through the API are kept, after them. An endpoint whose id is kept takes its new
    /// settings at its next event; one that is gone stops (what it had queued stays
    /// stored, `removed` in `outbox stats`). Throws, changing nothing, when a new id is an
    /// API endpoint's.
    public func replaceConfigured(with configured: [WebhookEndpoint]) throws -> (added: [String], changed: [String], removed: [String]) {
        let result = try endpoints.withLock { list -> (added: [String], changed: [String], removed: [String]) in
            let managed = list.filter { $0.managedBy == .api }
            if let clash = configured.first(where: { new in managed.contains { $0.id == new.id } }) {
                throw EndpointIDTaken(id: clash.id)
            }
            let old = Dictionary(uniqueKeysWithValues: list.filter { $0.managedBy == .config }.map { ($0.id, $0) })
            let added = configured.filter { old[$0.id] == nil }.map(\.id)
            let changed = configured.filter { new in old[new.id].map { !$0.hasSameSettings(as: new) } ?? false }.map(\.id)
            let removed = old.keys.filter { id in !configured.contains { $0.id == id } }.sorted()
            list = configured + managed
            return (added, changed, removed)
        }
        changed.signal()
        return result
    }
}

/// A config file's endpoint has the id of one made through the API.
public struct EndpointIDTaken: Error, CustomStringConvertible, Sendable {
    public let id: String
    public var description: String { "[[webhooks.endpoints]] id \"\(id)\" is an endpoint made through the API" }
}

extension WebhookEndpoint {
    /// Whether deliveries to `other` would go out as to this one.
    func hasSameSettings(as other: WebhookEndpoint) -> Bool {
        url == other.url && secrets == other.secrets && topics == other.topics && fallbackURL == other.fallbackURL && status == other.status
            && ordering == other.ordering && contentType == other.contentType && apiVersion == other.apiVersion
    }
}
