internal import CNetfilter
import Glibc
import Synchronization

/// With `NetfilterEncoding.swift`, the only Swift that touches libnftnl and libmnl: a
/// netlink socket that sends nf_tables transactions and checks one acknowledgement per
/// message (the messages themselves are built in that file).
///
/// A transaction is one `sendmsg` of a batch (begin … end); the kernel applies all
/// of it or none of it. Every message carries `NLM_F_ACK`, so a failure names the
/// message that caused it.
final class NetfilterSocket: Sendable {
    /// The socket and its buffers, allocated once: a login's commit used to map and
    /// zero 256 KiB per message and 1 MiB per reply, which was most of its netlink time.
    private struct Handle: @unchecked Sendable {
        let socket: OpaquePointer
        var sequence: UInt32
        let scratch: UnsafeMutableRawPointer
        let receive: UnsafeMutableRawPointer
    }
    private let handle: Mutex<Handle>
    private let portID: UInt32
    /// Whether the big socket buffers could be forced (they need CAP_NET_ADMIN).
    private let bufferForced: Bool

    /// Largest encoded message; a 1 000-element message is ~40 KiB. libmnl zeroes
    /// what it writes (headers, attribute padding), so the buffer is never cleared.
    private static let messageCapacity = 256 * 1024
    /// One receive: a batch's acknowledgements, or a part of a set dump.
    private static let receiveCapacity = 1 << 20

    init() throws {
        guard let socket = mnl_socket_open(NETLINK_NETFILTER) else {
            throw FirewallError("cannot open a netfilter netlink socket: \(String(cString: strerror(errno)))")
        }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let reason = String(cString: strerror(errno))
            mnl_socket_close(socket)
            throw FirewallError("cannot bind the netfilter netlink socket: \(reason)")
        }
        // Large batches and their acknowledgements must fit the socket buffers whole;
        // the FORCE variants need CAP_NET_ADMIN, which portald has.
        var size: Int32 = 16 * 1024 * 1024
        let fd = mnl_socket_get_fd(socket)
        var forced = true
        if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            forced = false  // without CAP_NET_ADMIN: a big batch will not fit, and the kernel would refuse it anyway
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        bufferForced = forced
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        portID = mnl_socket_get_portid(socket)
        handle = Mutex(Handle(socket: socket, sequence: UInt32(truncatingIfNeeded: time(nil)),
                              scratch: .allocate(byteCount: Self.messageCapacity, alignment: 16),
                              receive: .allocate(byteCount: Self.receiveCapacity, alignment: 16)))
    }

    deinit {
        handle.withLock { handle in
            _ = mnl_socket_close(handle.socket)
            handle.scratch.deallocate()
            handle.receive.deallocate()
        }
    }

    /// Sends `messages` as one atomic transaction. Returns the ruleset's generation just
    /// before and just after it (the kernel counts every transaction committed in the
    /// namespace, anyone's): `after == before + 1` means none came between. Nil where it
    /// could not be read: the commit's own answer is the error to report (without
    /// CAP_NET_ADMIN the kernel refuses both, and "add table" says more than "get generation").
    @discardableResult
    func commit(_ messages: [NetfilterMessage]) throws -> (before: UInt32?, after: UInt32?) {
        try handle.withLock { handle in
            let before = try? Self.generation(&handle)
            let scratch = handle.scratch
            var batch: [UInt8] = []
            var pending: [UInt32: String] = [:]

            func append(_ header: UnsafeMutablePointer<nlmsghdr>?) {
                guard let header else { return }
                let length = Int(header.pointee.nlmsg_len)
                let padded = (length + 3) & ~3
                batch.append(contentsOf: UnsafeRawBufferPointer(start: header, count: length))
                batch.append(contentsOf: [UInt8](repeating: 0, count: padded - length))
            }
            func nextSequence() -> UInt32 { Self.nextSequence(&handle) }

            let chars = scratch.assumingMemoryBound(to: CChar.self)
            let begin = nextSequence()
            append(nftnl_batch_begin(chars, begin))
            for message in messages {
                let sequence = nextSequence()
                append(try Self.encode(message, into: chars, sequence: sequence))
                pending[sequence] = message.summary
            }
            append(nftnl_batch_end(chars, nextSequence()))

            let sent = batch.withUnsafeBytes { mnl_socket_sendto(handle.socket, $0.baseAddress, $0.count) }
            guard sent == batch.count else {
                let error = errno
                let hint = error == EMSGSIZE && !bufferForced ? Self.capabilityHint : ""
                throw FirewallError("netlink send of \(batch.count) bytes failed: \(String(cString: strerror(error)))\(hint)", errno: error)
            }
            try readAcknowledgements(socket: handle.socket, buffer: handle.receive, pending: &pending,
                                     batch: (begin, messages.first?.summary ?? "an empty transaction"))
            return (before, try? Self.generation(&handle))
        }
    }

    /// The ruleset's generation now.
    func generation() throws -> UInt32 { try handle.withLock { try Self.generation(&$0) } }

    private static func generation(_ handle: inout Handle) throws -> UInt32 {
        let sequence = nextSequence(&handle)
        let request = nftnl_nlmsg_build_hdr(handle.scratch.assumingMemoryBound(to: CChar.self), UInt16(NFT_MSG_GETGEN.rawValue),
                                            UInt16(AF_UNSPEC), 0, sequence)!
        var generation: UInt32?
        try exchange(&handle, request, sequence: sequence, refused: "get generation", silent: "no answer to the generation request") { message in
            let gen = nftnl_gen_alloc()!
            defer { nftnl_gen_free(gen) }
            guard nftnl_gen_nlmsg_parse(message, gen) >= 0 else { throw FirewallError("netlink: an unreadable generation") }
            generation = nftnl_gen_get_u32(gen, UInt16(NFTNL_GEN_ID))
            return true
        }
        return generation!
    }

    /// The elements of a set that has a counter, with their byte counts: all of them
    /// (a dump), or only the one with `key` (a lookup). A missing table, set or
    /// element is a `FirewallError` with errno ENOENT.
    func counters(table: String, set setName: String, key: [UInt8]? = nil) throws -> [ElementReading] {
        try handle.withLock { handle in
            let sequence = Self.nextSequence(&handle)
            let set = Self.setObject(table: table, name: setName)
            defer { nftnl_set_free(set) }
            if let key {
                let item = nftnl_set_elem_alloc()!
                key.withUnsafeBytes { _ = nftnl_set_elem_set(item, UInt16(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count)) }
                nftnl_set_elem_add(set, item)
            }
            // A dump is answered by NEWSETELEM messages closed by NLMSG_DONE; a lookup by
            // one NEWSETELEM message or an error. No ACK is asked for either.
            let request = nftnl_nlmsg_build_hdr(handle.receive.assumingMemoryBound(to: CChar.self), UInt16(NFT_MSG_GETSETELEM.rawValue),
                                                UInt16(Self.family), UInt16(key == nil ? NLM_F_DUMP : 0), sequence)!
            nftnl_set_elems_nlmsg_build_payload(request, set)
            var result: [ElementReading] = []
            try Self.exchange(&handle, request, sequence: sequence, refused: "list set inet \(table) \(setName)",
                              silent: "the set dump of \(setName) did not finish") { message in
                result += Self.parseCounters(message)
                return key != nil
            }
            return result
        }
    }

    private static func nextSequence(_ handle: inout Handle) -> UInt32 {
        handle.sequence &+= 1
        return handle.sequence
    }

    /// Sends `request` (no ACK asked for) and hands each answer with its sequence to
    /// `answer`, until that returns true or NLMSG_DONE arrives. An error answer is thrown
    /// as the kernel refusing `refused`; no answer within a second as `silent`.
    private static func exchange(_ handle: inout Handle, _ request: UnsafeMutablePointer<nlmsghdr>, sequence: UInt32, refused: String, silent: String,
                                 _ answer: (UnsafePointer<nlmsghdr>) throws -> Bool) throws {
        guard mnl_socket_sendto(handle.socket, request, Int(request.pointee.nlmsg_len)) >= 0 else {
            throw FirewallError("netlink send failed: \(String(cString: strerror(errno)))")
        }
        var pollfd = Glibc.pollfd(fd: mnl_socket_get_fd(handle.socket), events: Int16(POLLIN), revents: 0)
        while true {
            guard poll(&pollfd, 1, 1000) > 0 else { throw FirewallError("netlink: \(silent)") }
            let received = mnl_socket_recvfrom(handle.socket, handle.receive, receiveCapacity)
            guard received > 0 else { throw FirewallError("netlink receive failed: \(String(cString: strerror(errno)))") }
            var remaining = Int32(received)
            var message: UnsafePointer<nlmsghdr>? = UnsafePointer(handle.receive.assumingMemoryBound(to: nlmsghdr.self))
            while let current = message, mnl_nlmsg_ok(current, remaining) {
                defer { message = UnsafePointer(mnl_nlmsg_next(current, &remaining)) }
                guard portald_nlmsg_seq(current) == sequence else { continue }  // a late reply to something else
                switch Int32(portald_nlmsg_type(current)) {
                case NLMSG_DONE:
                    return
                case NLMSG_ERROR:
                    let error = portald_nlmsg_error(current)
                    if error != 0 { throw refusal(refused, errno: -error) }
                default:
                    if try answer(current) { return }
                }
            }
        }
    }

    private static func parseCounters(_ message: UnsafePointer<nlmsghdr>) -> [ElementReading] {
        let set = nftnl_set_alloc()!
        defer { nftnl_set_free(set) }
        guard nftnl_set_elems_nlmsg_parse(message, set) >= 0, let iterator = nftnl_set_elems_iter_create(set) else { return [] }
        defer { nftnl_set_elems_iter_destroy(iterator) }
        var result: [ElementReading] = []
        while let element = nftnl_set_elems_iter_next(iterator) {
            var length: UInt32 = 0
            guard let key = nftnl_set_elem_get(element, UInt16(NFTNL_SET_ELEM_KEY), &length) else { continue }
            var bytes: UInt64 = 0
            if let expression = nftnl_set_elem_get(element, UInt16(NFTNL_SET_ELEM_EXPR), nil) {
                let counter = OpaquePointer(expression)
                if let name = nftnl_expr_get_str(counter, UInt16(NFTNL_EXPR_NAME)), String(cString: name) == "counter" {
                    bytes = nftnl_expr_get_u64(counter, UInt16(NFTNL_EXPR_CTR_BYTES))
                }
            }
            let flags = nftnl_set_elem_is_set(element, UInt16(NFTNL_SET_ELEM_FLAGS)) ? nftnl_set_elem_get_u32(element, UInt16(NFTNL_SET_ELEM_FLAGS)) : 0
            result.append(ElementReading(key: Array(UnsafeRawBufferPointer(start: key, count: Int(length))), bytes: bytes,
                                         intervalEnd: flags & UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue) != 0))
        }
        return result
    }

    /// Reads one NLMSG_ERROR per message; the kernel queues them all before `sendmsg`
    /// returns, so a short wait only guards against a lost reply.
    /// `batch`: the batch's begin message and what it starts with. The kernel refuses a whole
    /// batch (no CAP_NET_ADMIN) with one error to that message and acknowledges nothing else.
    private func readAcknowledgements(socket: OpaquePointer, buffer: UnsafeMutableRawPointer, pending: inout [UInt32: String],
                                      batch: (sequence: UInt32, first: String)) throws {
        let capacity = Self.receiveCapacity
        var failure: (errno: Int32, message: String)?
        var pollfd = Glibc.pollfd(fd: mnl_socket_get_fd(socket), events: Int16(POLLIN), revents: 0)
        while !pending.isEmpty {
            let ready = poll(&pollfd, 1, 1000)
            guard ready > 0 else {
                throw FirewallError("netlink: no acknowledgement for \(pending.values.sorted().joined(separator: ", "))")
            }
            let received = mnl_socket_recvfrom(socket, buffer, capacity)
            guard received > 0 else {
                throw FirewallError("netlink receive failed: \(String(cString: strerror(errno)))")
            }
            var remaining = Int32(received)
            var message: UnsafePointer<nlmsghdr>? = UnsafePointer(buffer.assumingMemoryBound(to: nlmsghdr.self))
            while let current = message, mnl_nlmsg_ok(current, remaining) {
                if portald_nlmsg_type(current) == UInt16(NLMSG_ERROR) {
                    let sequence = portald_nlmsg_seq(current)
                    let error = portald_nlmsg_error(current)
                    if let summary = pending.removeValue(forKey: sequence), error != 0, failure == nil {
                        failure = (-error, summary)
                    } else if sequence == batch.sequence, error != 0 {
                        failure = (-error, batch.first)
                        pending.removeAll()
                    }
                }
                message = UnsafePointer(mnl_nlmsg_next(current, &remaining))
            }
        }
        if let failure {
            throw Self.refusal(failure.message, errno: failure.errno)
        }
    }

    /// What the kernel refused, and why; the one cause IT can fix at once (the process
    /// lacks the capability) is named.
    static let capabilityHint = " (portald needs CAP_NET_ADMIN: run it as root, or as the unit does with AmbientCapabilities=CAP_NET_ADMIN)"

    static func refusal(_ what: String, errno: Int32) -> FirewallError {
        let hint = errno == EPERM ? capabilityHint : ""
        return FirewallError("nftables refused \"\(what)\": \(String(cString: strerror(errno)))\(hint)", errno: errno)
    }
}
