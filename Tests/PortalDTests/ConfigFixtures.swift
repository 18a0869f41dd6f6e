import Foundation
@testable import PortalD

/// The least a gateway's config holds; tests add sections (or lines to `[portal]`) to it.
func gatewayConfig(portal: String = "", sections: String = "") -> String {
    """
    [site]
    id = "h"
    name = "H"
    [portal]
    listen = "192.0.2.1:8080"
    public_url = "http://192.0.2.1:8080/"
    lan_interface = "br-lan"
    \(portal)
    [store]
    path = "x.db"
    \(sections)
    """
}

/// What parsing `text` says is wrong ("no error" when nothing is).
func configError(_ text: String) -> String {
    do {
        _ = try Config.parse(text, baseDirectory: "/etc/portald")
        return "no error"
    } catch {
        return "\(error)"
    }
}
