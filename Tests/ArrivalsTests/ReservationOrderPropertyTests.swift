import Foundation
import Lab
import Testing
@testable import Arrivals

/// Updates arrive out of order (retries, two PMS webhooks racing): whatever the
/// order, the stored state must be the latest version of each reservation.
@Suite("property: any order of versioned updates and deletes ends at the latest version")
struct ReservationOrderPropertyTests {
    enum Operation {
        case put(Reservation)
        case delete(id: String, version: Int64)
        var version: Int64 {
            switch self {
            case .put(let reservation): reservation.version!
            case .delete(_, let version): version
            }
        }
    }

    @Test("200 random histories, shuffled", arguments: 0..<4)
    func latestVersionWins(batch: UInt64) throws {
        var random = SplitMix64(seed: 0x5EED + batch)
        for round in 0..<50 {
            let reservations = try reservationStore()
            var history: [String: [Operation]] = [:]
            for index in 0..<4 {
                let id = "R-\(index)"
                // Distinct versions per reservation: "the latest" is well defined.
                for version in (1...Int64(12)).shuffled(using: &random).prefix(Int.random(in: 1...8, using: &random)) {
                    if Int.random(in: 0..<4, using: &random) == 0 {
                        history[id, default: []].append(.delete(id: id, version: version))
                    } else {
                        // Any status: a newer version is applied whatever the status moved through.
                        var reservation = sample(id, version: version, status: Reservation.Status.allCases.randomElement(using: &random)!,
                                                 lastName: ["Müller", "Smith", "Núñez"].randomElement(using: &random)!)
                        reservation.room = Bool.random(using: &random) ? nil : String(Int.random(in: 100...499, using: &random))
                        reservation.adults = Int.random(in: 1...4, using: &random)
                        history[id, default: []].append(.put(reservation))
                    }
                }
            }
            for operation in history.values.flatMap({ $0 }).shuffled(using: &random) {
                do {
                    switch operation {
                    case .put(let reservation): _ = try reservations.put(reservation, source: "test")
                    case .delete(let id, let version): _ = try reservations.delete(id: id, version: version, source: "test")
                    }
                } catch ReservationError.stale {
                    // An older version than stored: ignored, as it must be.
                }
            }
            for (id, operations) in history {
                let latest = operations.max { $0.version < $1.version }!
                let stored = try reservations.get(id: id)?.reservation
                switch latest {
                case .put(let reservation): #expect(stored == reservation, "batch \(batch) round \(round): \(id)")
                case .delete: #expect(stored == nil, "batch \(batch) round \(round): \(id) should be deleted")
                }
            }
        }
    }
}

