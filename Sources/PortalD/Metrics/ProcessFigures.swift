import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The process's own figures under the names every Prometheus client library uses
/// (`process_resident_memory_bytes` …), read from `/proc/self`.
struct ProcessFigures: Sendable, Equatable {
    var residentBytes: Double
    var virtualBytes: Double
    var cpuSeconds: Double
    /// Seconds since the epoch.
    var startTime: Double
    var openDescriptors: Double
    var maxDescriptors: Double

    /// Nil where `/proc` is not there to read (not Linux).
    static func read() -> ProcessFigures? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After the command name (which may hold spaces), from field 3 (state) on.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double { Double(fields[number - 3]) ?? 0 }
        guard fields.count >= 22 else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return ProcessFigures(residentBytes: field(24) * page, virtualBytes: field(23), cpuSeconds: (field(14) + field(15)) / ticks,
                              startTime: startTime(sinceBoot: field(22) / ticks), openDescriptors: Double(max(0, descriptors - 1)),
                              maxDescriptors: Double(limit.rlim_cur))
    }

    /// Computed once: the wall clock less CLOCK_BOOTTIME moves a little between reads, and a
    /// start time that moves looks like a restart to Prometheus.
    private static let start = Mutex<Double?>(nil)

    private static func startTime(sinceBoot seconds: Double) -> Double {
        start.withLock { start in
            if let start { return start }
            let computed = bootTime() + seconds
            start = computed
            return computed
        }
    }

    /// When the machine booted, which `/proc/self/stat`'s start time counts from: now less
    /// CLOCK_BOOTTIME (the unit's `ProcSubset=pid` hides `/proc/stat` and its `btime`).
    private static func bootTime() -> Double {
        var since = timespec()
        guard clock_gettime(CLOCK_BOOTTIME, &since) == 0 else { return 0 }
        return Date().timeIntervalSince1970 - (Double(since.tv_sec) + Double(since.tv_nsec) / 1e9)
    }
}
