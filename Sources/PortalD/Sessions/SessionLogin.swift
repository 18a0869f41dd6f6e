import Firewall
import Foundation
import GRDB

extension SessionService {
    /// Starts (or keeps) the device's session, and returns once its packets can flow.
    ///
    /// Logging in again the same way (method and subject) keeps the running session,
    /// and a new address of the device is bound to it; anything else replaces it, with
    /// the addresses it had, so a guest who finishes check-in after accepting the terms
    /// is bound to the reservation. An address has one owner: another device's session
    /// whose login address it was is ended (DHCP gave the address away), with its bytes,
    /// and one that only had it bound since gives up that address and keeps the rest, so
    /// two guests' traffic is never mixed and one guest's login cannot end another's stay.
    ///
    /// The session lasts `minutes`, or until `until` (a stay's end, at most a year away),
    /// or `[portal] session_minutes`. `subjectLimit`: how many devices the subject may have
    /// online; one more is refused (`limitReached`), checked in the write that would add it.
    @discardableResult
    public func login(mac: MACAddress, ipv4: IPv4Address, method: Session.Method, subject: SessionSubject? = nil,
                      minutes: Int? = nil, until: Date? = nil, subjectLimit: Int? = nil, tier: String?? = .none) throws -> Session {
        try login(mac: mac, address: .v4(ipv4), method: method, subject: subject, minutes: minutes, until: until, subjectLimit: subjectLimit, tier: tier)
    }

    /// `login` from either family: the device is bound to `address`, and the address
    /// watcher (`bindAddresses`) adds the MAC's other addresses within seconds. `tier`:
    /// the session's tier (`[[firewall.tiers]]`); not given, `[portal] tier`. A login
    /// in another tier replaces the session.
    @discardableResult
    public func login(mac: MACAddress, address: IPAddress, method: Session.Method, subject: SessionSubject? = nil,
                      minutes: Int? = nil, until: Date? = nil, subjectLimit: Int? = nil, tier: String?? = .none) throws -> Session {
        var result = PortalMetrics.LoginResult.started
        do {
            let session = try startSession(mac: mac, address: address, method: method, subject: subject, minutes: minutes, until: until,
                                           subjectLimit: subjectLimit, tier: tier ?? defaultTier, result: &result)
            metrics.login(method, result)
            return session
        } catch let error as SessionError where error.kind == .blocked || error.kind == .limitReached {
            metrics.login(method, error.kind == .blocked ? .blocked : .deviceLimit)
            throw error
        } catch {
            metrics.login(method, .error)
            throw error
        }
    }

    private func startSession(mac: MACAddress, address: IPAddress, method: Session.Method, subject: SessionSubject?, minutes: Int?,
                              until: Date?, subjectLimit: Int?, tier: String?, result: inout PortalMetrics.LoginResult) throws -> Session {
        try changes.withLock { state in
            // Under the lock that rule changes take too: a block cannot slip in between.
            guard !isBlocked(mac) else { throw SessionError(kind: .blocked, description: "\(mac) is blocked") }
            let started = now()
            let longest = TimeInterval(Session.minutesRange.upperBound * 60)
            let length = minutes.map { Duration.seconds($0 * 60) }
                ?? until.map { Duration.seconds(Int(min(longest, max(1, $0.timeIntervalSince(started))).rounded(.up))) }
                ?? sessionLength
            var session = Session(id: UUID().uuidString.lowercased(), device: DeviceBinding(mac: mac, addresses: [address]), method: method,
                                  subject: subject, tier: tier, startedAt: started,
                                  expiresAt: started.addingTimeInterval(TimeInterval(length.components.seconds)))
            enum Outcome {
                /// The running session, with `bound` when the address was new to it.
                case kept(Session, bound: AuthorizedDevice?, yielded: [DeviceKey])
                case needsTraffic(Set<IPAddress>)
                case started(ended: [Session], yielded: [DeviceKey])
                case full
            }
            // Usually nothing is ended and one write does it all; when something is, its
            // counters are read outside the write transaction and the write is run again.
            var traffic: [IPAddress: TrafficReading]?
            while true {
                // Set when the write adds the session: the kernel's change, already on its way.
                var kernel: KernelChange?
                let outcome: Outcome
                do {
                    var decided: Outcome?
                    try store.pool.writeWithoutTransaction { db in
                        try db.inTransaction(.immediate) {
                            let outcome = try decide(db)
                            decided = outcome
                            if case .started(let ended, let yielded) = outcome, ended.isEmpty, yielded.isEmpty {
                                // A new device only (the usual login): its element goes to the kernel while
                                // the commit waits for its fsync, the login's two slow steps. A crash between
                                // them leaves an element without a session, which restore() drops; a commit
                                // that fails has it taken back (below). Replacing a session waits for the
                                // commit, so the counters of an address never move to its new owner early.
                                kernel = KernelChange(firewall, removing: [], adding: [AuthorizedDevice(mac: mac, address: address, timeout: length, tier: tier)],
                                                      metrics: metrics)
                            }
                            return .commit
                        }
                    }
                    outcome = decided!
                } catch {
                    if let kernel {
                        _ = kernel.wait()
                        state.needsReconcile = true
                        _ = try? reconcile(&state, because: "a login whose commit failed")
                    }
                    throw error
                }
                func decide(_ db: Database) throws -> Outcome {
                    let holders = try SessionRecords.active(SessionRecords.holdingMACOrAddress,
                                                            [mac.description, address.family, address.description], in: db)
                    // Another device's session that had the address bound after its login gives it up.
                    let yielding = holders.filter { $0.mac != mac && $0.device.addresses.first != address }
                    let ending = holders.filter { $0.mac == mac || $0.device.addresses.first == address }
                    // A device has one IPv4 address at a time: a new one (DHCP) replaces the session, and the old goes.
                    let replacesIPv4 = address.ipv4 != nil
                    if let current = ending.first, ending.count == 1, current.mac == mac,
                       current.device.addresses.contains(address) || !(replacesIPv4 && current.ipv4 != nil),
                       current.method == method, current.subject == subject, current.tier == tier, current.expiresAt > started, minutes == nil,
                       until.map({ abs($0.timeIntervalSince(current.expiresAt)) < 1 }) ?? true {
                        if current.device.addresses.contains(address) { return .kept(current, bound: nil, yielded: []) }
                        // At the cap, the oldest IPv6 address bound after the login makes room.
                        let evicted = address.ipv6 != nil && current.device.ipv6.count >= Self.ipv6PerSession
                            ? current.device.addresses.dropFirst().first { $0.ipv6 != nil } : nil
                        guard let unread = traffic ?? (yielding.isEmpty && evicted == nil ? [:] : nil) else {
                            return .needsTraffic(Set([address] + (evicted.map { [$0] } ?? [])))
                        }
                        let yielded = try yield(yielding, unread[address] ?? .none, in: db)
                        var kept = current
                        if let evicted {
                            kept.add(unread[evicted] ?? .none)
                            kept.device.addresses.removeAll { $0 == evicted }
                            try SessionRecords.update(kept, in: db)
                            try db.execute(sql: "DELETE FROM session_address WHERE session_id = ? AND address = ?", arguments: [kept.id, evicted.description])
                        }
                        try SessionRecords.insert(address, of: current.id, in: db)
                        kept.device.addresses.append(address)
                        let timeout = Duration.seconds(max(1, current.secondsRemaining(at: started)))
                        return .kept(kept, bound: AuthorizedDevice(mac: mac, address: address, timeout: timeout, tier: tier),
                                     yielded: yielded + (evicted.map { [DeviceKey(mac: mac, address: $0)] } ?? []))
                    }
                    if let subjectLimit, let subject {
                        let others = try SessionRecords.active("subject_type = ? AND subject_id = ?", [subject.type, subject.id], in: db)
                            .filter { other in !ending.contains { $0.id == other.id } }
                        if others.count >= subjectLimit { return .full }
                    }
                    guard var unread = traffic ?? (ending.isEmpty && yielding.isEmpty ? [:] : nil) else {
                        return .needsTraffic(Set(ending.flatMap(\.device.addresses) + (yielding.isEmpty ? [] : [address])))
                    }
                    let yielded = yielding.isEmpty ? [] : try yield(yielding, unread.removeValue(forKey: address) ?? .none, in: db)
                    let ended = try ending.map { old in
                        let reason: Session.EndReason = old.mac != mac ? .addressReused : old.expiresAt <= started ? .expired : .replaced
                        let reading = TrafficReading.combined(old.device.addresses.map { unread.removeValue(forKey: $0) ?? .none })
                        return try end(old, reason: reason, at: started, traffic: reading, in: db)
                    }
                    // The same device's new session keeps the addresses its last one had.
                    var ipv6Room = Self.ipv6PerSession - (address.ipv6 != nil ? 1 : 0)
                    let inherited = ended.filter { $0.mac == mac }.flatMap(\.device.addresses).filter { old in
                        guard old != address, !(replacesIPv4 && old.ipv4 != nil) else { return false }
                        guard old.ipv6 != nil else { return true }
                        ipv6Room -= 1
                        return ipv6Room >= 0
                    }
                    session.device.addresses = [address] + inherited
                    try SessionRecords.insert(session, in: db)
                    try outbox.record("wifi.session.started", data: SessionEventData(session: session), at: started, in: db)
                    return .started(ended: ended, yielded: yielded)
                }
                /// Unbinds the login's address from the sessions in `yielding` (another device
                /// had it bound since its login), adding what the kernel counted for it to theirs.
                func yield(_ yielding: [Session], _ reading: TrafficReading, in db: Database) throws -> [DeviceKey] {
                    try yielding.map { other in
                        var other = other
                        other.add(reading)
                        try SessionRecords.update(other, in: db)
                        try db.execute(sql: "DELETE FROM session_address WHERE session_id = ? AND address = ?", arguments: [other.id, address.description])
                        logger.notice("address moved to another device's login", metadata: ["address": "\(address)", "from": "\(other.mac)", "to": "\(mac)"])
                        return DeviceKey(mac: other.mac, address: address)
                    }
                }
                switch outcome {
                case .kept(let current, let bound, let yielded):
                    result = .kept
                    if let bound {
                        try apply(&state, removing: yielded, adding: [bound], "bind \(address) to \(mac)")
                    } else if state.needsReconcile {  // the kernel may not hold it yet: "online" only once it does
                        do {
                            try reconcile(&state, because: "login of \(mac)")
                        } catch {
                            throw SessionError(kind: .firewall, description: "could not authorize \(mac): \(error)")
                        }
                    }
                    return current
                case .full:
                    throw SessionError(kind: .limitReached, description: "\(subject.map { "\($0.type) \($0.id)" } ?? "the subject") has its \(subjectLimit ?? 0) device(s) online")
                case .needsTraffic(let addresses):
                    traffic = Dictionary(uniqueKeysWithValues: addresses.map { ($0, counters(of: $0)) })
                case .started(let ended, let yielded):
                    if let kernel {
                        if case .failure(let error) = kernel.wait() { try recover(&state, from: error, "authorize \(mac)") }
                    } else {
                        let timeout = length
                        try apply(&state, removing: ended.flatMap(\.keys) + yielded,
                                  adding: session.elements(timeout: timeout), "authorize \(mac)")
                    }
                    logger.info("session started", metadata: ["mac": "\(mac)", "address": "\(address)", "method": "\(method.rawValue)", "session": "\(session.id)"])
                    return session
                }
            }
        }
    }
}
