/// Why a reservation was not stored or found. Each case names what the caller must
/// fix; the admin API maps them to 400, 422, 409 and 404.
public enum ReservationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is not a JSON object at all.
    case malformed(String)
    /// A field is missing or wrong; `field` is its JSON path (`guests[1].email`).
    case invalid(field: String, message: String)
    /// The update is older than the stored version: nothing changed.
    case stale(id: String, stored: Int64, offered: Int64)
    case notFound(id: String)

    public var description: String {
        switch self {
        case .malformed(let message): message
        case .invalid(let field, let message): "\(field): \(message)"
        case .stale(let id, let stored, let offered):
            "reservation \(id) is at version \(stored); version \(offered) is older and was ignored (nothing changed)"
        case .notFound(let id): "no reservation \(id)"
        }
    }
}
