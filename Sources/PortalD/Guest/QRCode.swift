internal import CQRencode
import HTTPServer

/// A QR code (ISO/IEC 18004) made by libqrencode, drawn as an inline SVG: a companion's
/// invite link on the primary guest's screen, for the companion's phone camera. No
/// JavaScript, no image request, no third party seeing the link.
struct QRCode: Sendable {
    /// Modules per side.
    let size: Int
    /// Row by row; true is dark.
    let modules: [Bool]

    /// Nil when `text` is too long for any QR version (a link is far below that).
    init?(_ text: String) {
        // Level M: 15 % of the code may be lost (a glare on a phone screen) and it still reads.
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        // Bit 0 of each byte is the module's colour; the rest say what kind of module it is.
        let data = UnsafeBufferPointer(start: code.pointee.data, count: width * width)
        size = width
        modules = data.map { $0 & 1 == 1 }
    }

    /// The code as SVG, scalable, with the 4-module quiet zone the standard asks for:
    /// one path of unit squares, crisp at any size.
    func svg(label: String) -> String {
        let side = size + 8
        var path = ""
        path.reserveCapacity(modules.count * 4)
        for y in 0..<size {
            for x in 0..<size where modules[y * size + x] {
                path += "M\(x + 4) \(y + 4)h1v1h-1z"
            }
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(side) \(side)\" class=\"qr\" role=\"img\" aria-label=\"\(HTML.escape(label))\" shape-rendering=\"crispEdges\">"
            + "<rect width=\"\(side)\" height=\"\(side)\" fill=\"#fff\"/><path fill=\"#000\" d=\"\(path)\"/></svg>"
    }
}
