import Foundation
import Testing
import Lab

/// Without CAP_NET_ADMIN the kernel refuses portald's table: the start fails with a
/// message naming what was refused and what is missing, and nothing is left behind.
@Suite("portald without CAP_NET_ADMIN", .serialized)
struct CapabilityTests {
    @Test("serve without CAP_NET_ADMIN exits 1, naming the refused operation and the capability")
    func withoutNetAdmin() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        let portald = try Portald(lab: lab)
        // Root without the capability: dropped from the bounding set and the inheritable set before exec.
        let result = try portald.run(["setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin", "--",
                                      Portald.binary, "serve", "--config", portald.configPath], check: false)
        #expect(result.status == 1, "exit \(result.status)")
        #expect(result.stderr.contains("nftables refused \"add table inet portald\": Operation not permitted"), "\(result.stderr)")
        #expect(result.stderr.contains("portald needs CAP_NET_ADMIN"), "\(result.stderr)")
        #expect(try lab.gateway.exec(["nft", "list", "tables"]).stdout.isEmpty)
    }
}
