import Arrivals
import Crypto
import HTTPServer
import Logging

/// Online check-in's pages as one unit (`/arrive…`, `/claim/…`): served on the portal
/// listener, and on `[arrivals] listen` for guests at home. Both listeners share the
/// per-reservation lookup throttle, so a second way in is not a second allowance.
struct CheckinRoutes: Sendable {
    let config: Config
    let reservations: Reservations
    let checkins: Checkins?
    let formKey: [UInt8]
    let lookups: LookupThrottle
    let pages: GuestPages
    let logger: Logger

    /// `wifi`: set on the portal listener only, where guests are on the LAN.
    /// `throttleLabel`: how the listener's wrong-link throttle names itself in logs.
    /// `lan`: on the portal listener, the guests' devices, which wrong links count against (by MAC).
    func add(to group: RouterGroup<GuestContext>, wifi: ArrivalWiFi?, throttleLabel: String, lan: GuestLAN?) {
        var device: (@Sendable (String) -> String?)?
        if let lan { device = { address in lan.device(at: address)?.mac.description } }
        let access = CheckinAccess(reservations: reservations, pass: CheckinPass(key: Crypto.hmacSHA256(key: formKey, message: Array("checkin-pass".utf8))),
                                   throttle: AuthFailureThrottle(limit: Portal.guessesPerMinute, label: throttleLabel, device: device, logger: logger),
                                   pages: pages)
        ArrivalsController(access: access, formToken: FormToken(key: formKey), lookups: lookups, siteName: config.site.name, logger: logger)
            .addRoutes(to: group)
        guard let checkins else { return }
        CheckinController(access: access, checkins: checkins, formToken: FormToken(key: formKey),
                          fields: RegistrationForm(profile: checkins.profile, pages: pages), termsVersion: config.arrivals.termsVersion,
                          wifi: wifi)
            .addRoutes(to: group)
        ClaimController(access: access, checkins: checkins, formToken: FormToken(key: formKey),
                        fields: RegistrationForm(profile: checkins.profile, pages: pages))
            .addRoutes(to: group)
    }
}
