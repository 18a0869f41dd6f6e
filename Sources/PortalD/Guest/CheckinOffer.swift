import Arrivals
import Synchronization

/// Whether the splash page offers "Check in online": while some booking may arrive
/// today. The splash page is served on the listener's thread, so the answer is asked
/// of SQLite at most once a minute; a booking pushed in shows within that minute.
final class CheckinOffer: Sendable {
    let checkins: Checkins
    /// `[arrivals] wifi_at_arrival`: whether the offer may promise the stay's WiFi.
    let withWiFi: Bool
    private let cached = Mutex<(at: ContinuousClock.Instant, open: Bool)?>(nil)
    static let refresh = Duration.seconds(60)

    init(checkins: Checkins, withWiFi: Bool) {
        self.checkins = checkins
        self.withWiFi = withWiFi
    }

    var isOpen: Bool {
        let now = ContinuousClock.now
        if let cached = cached.withLock({ $0 }), now - cached.at < Self.refresh { return cached.open }
        // A failed read offers it: "find my booking" says so itself if nothing matches.
        let open = (try? checkins.anyArrivalOpen()) ?? true
        cached.withLock { $0 = (now, open) }
        return open
    }
}
