import Foundation
import Synchronization

/// The endpoints events go to: those of the config file, then those made through the
/// API, in creation order. The dispatcher watches it, so an endpoint created, changed
/// or deleted through the API takes effect without a restart.
public final class EndpointRegistry: Sendable {
    private let endpoints: Mutex<[WebhookEndpoint]>
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
