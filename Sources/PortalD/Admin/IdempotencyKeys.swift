import Crypto
import Foundation
import GRDB
import HTTPServer
import Store

/// `Idempotency-Key` as the IETF draft (draft-ietf-httpapi-idempotency-key-header)
/// has it: the first request with a key is carried out and its answer kept for 24
/// hours; the same key with the same payload gets that answer again, with another
/// payload 422, and while the first is still being answered 409. Keys are per caller
/// and operation (`scope`): two integrations cannot collide.
final class IdempotencyKeys: Sendable {
    let store: Store
    let now: @Sendable () -> Date
    static let lifetime: TimeInterval = 24 * 3600

    init(store: Store, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.now = now
    }

    /// The header's key: the bare text, as most clients send it, or in double quotes (an
    /// sf-string without escapes); 1–255 visible ASCII characters other than `"`.
    static func key(from header: String?) throws -> String {
        guard let header, !header.isEmpty else {
            throw HTTPError.badRequest("idempotency_key_missing", "send an Idempotency-Key header (e.g. a UUID) so a retry cannot act twice")
        }
        var key = Substring(header.trimmingCharacters(in: .whitespaces))
        if key.count >= 2, key.first == "\"", key.last == "\"" { key = key.dropFirst().dropLast() }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\"") }) else {
            throw HTTPError.badRequest("invalid_idempotency_key", "Idempotency-Key must be 1–255 visible ASCII characters without \" (e.g. a UUID)")
        }
        return String(key)
    }

    /// Runs `operation` once per key: a repeat gets the kept answer. What it returns is
    /// kept, refusals included (a refusal is that request's answer); what it throws is
    /// not (as Stripe does: a request that never ran, such as an unknown id, may be retried
    /// with its key once the cause is gone).
    /// `payload`: what makes two requests the same (the caller normalises it).
    func once(scope: String, key: String, payload: [UInt8], _ operation: () throws -> HTTPResponse) throws -> HTTPResponse {
        if let kept = try claim(scope: scope, key: key, fingerprint: Data(Crypto.sha256(payload))) { return kept }
        do {
            let response = try operation()
            try keep(scope: scope, key: key, response)
            return response
        } catch {
            // Not kept: the key is free again (the operation itself must be safe to repeat, as arrive is).
            try? release(scope: scope, key: key)
            throw error
        }
    }

    /// Frees the keys whose first request never got its answer kept (the daemon stopped in
    /// between): called at start, when no request can be running. Without it they would
    /// answer 409 until they expire.
    func forgetUnfinished() throws {
        try store.pool.write { db in try db.execute(sql: "DELETE FROM idempotency_key WHERE response_status IS NULL") }
    }

    /// Nil when the key is new (now held as in flight); else the kept answer. Throws 422 or 409.
    private func claim(scope: String, key: String, fingerprint: Data) throws -> HTTPResponse? {
        let date = now()
        return try store.pool.write { db in
            try db.execute(sql: "DELETE FROM idempotency_key WHERE created_at < ?", arguments: [date.addingTimeInterval(-Self.lifetime)])
            guard let row = try Row.fetchOne(db, sql: "SELECT fingerprint, response_status, response_body FROM idempotency_key WHERE scope = ? AND key = ?",
                                             arguments: [scope, key]) else {
                try db.execute(sql: "INSERT INTO idempotency_key(scope, key, fingerprint, created_at) VALUES (?, ?, ?, ?)",
                               arguments: [scope, key, fingerprint, date])
                return nil
            }
            guard row["fingerprint"] as Data == fingerprint else {
                throw HTTPError(422, code: "idempotency_key_reused", message: "this Idempotency-Key was used for a request with another payload; use a new key")
            }
            guard let status: Int = row["response_status"] else {
                throw HTTPError(409, code: "idempotency_key_in_flight", message: "a request with this Idempotency-Key is still being answered; retry in a moment")
            }
            let body: Data = row["response_body"] ?? Data()
            return HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json"), ("Cache-Control", "no-store"),
                                                                      ("Idempotent-Replayed", "true")]),
                                body: Array(body))
        }
    }

    private func keep(scope: String, key: String, _ response: HTTPResponse) throws {
        try store.pool.write { db in
            try db.execute(sql: "UPDATE idempotency_key SET response_status = ?, response_body = ? WHERE scope = ? AND key = ?",
                           arguments: [response.status, Data(response.body), scope, key])
        }
    }

    private func release(scope: String, key: String) throws {
        try store.pool.write { db in try db.execute(sql: "DELETE FROM idempotency_key WHERE scope = ? AND key = ?", arguments: [scope, key]) }
    }
}
