import ArgumentParser
import Arrivals
import Foundation
import HTTPServer
import Outbox

struct ReservationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reservations", abstract: "List, show, create, update and delete reservations.",
        subcommands: [List.self, Show.self, Put.self, Delete.self, NewLink.self, Export.self, Erase.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reservations by arrival date.")
        @OptionGroup var options: ConfigOptions
        @Option(name: .customLong("from"), help: "Arriving on or after this date (YYYY-MM-DD).") var arrivalFrom: String?
        @Option(name: .customLong("to"), help: "Arriving on or before this date (YYYY-MM-DD).") var arrivalTo: String?
        @Option(help: "Only these statuses, comma-separated (confirmed, cancelled, in_house, checked_out, no_show).") var status: String?
        @Option(name: [.short, .long], help: "Words in the reference, room, or guests' names, emails or phones.") var search: String?
        @Option(help: "At most this many (1–\(ReservationQuery.limits.upperBound)); without it, every match.") var limit: Int?
        @Flag(help: "Print typed JSON (one page: {\"reservations\", \"next_cursor\"}).") var json = false

        func validate() throws {
            if let limit, !ReservationQuery.limits.contains(limit) {
                throw ValidationError("--limit must be between 1 and \(ReservationQuery.limits.upperBound), not \(limit)")
            }
        }

        func run() async throws {
            try await reporting {
                let client = try options.adminClient()
                var query = [("limit", String(limit ?? ReservationQuery.limits.upperBound))]
                for (name, value) in [("arrival_from", arrivalFrom), ("arrival_to", arrivalTo), ("status", status), ("q", search)] {
                    if let value { query.append((name, value)) }
                }
                var reservations: [ReservationView] = []
                var cursor: String?
                repeat {
                    let path = "/api/v1/reservations?" + (query + (cursor.map { [("cursor", $0)] } ?? []))
                        .map { "\($0)=\(FormData.encode($1))" }.joined(separator: "&")
                    let data = try await Self.translatingFilterErrors { try await client.send("GET", path) }
                    if json && limit != nil { return print(String(decoding: data, as: UTF8.self)) }
                    let page = try JSON.decoder().decode(ReservationListView.self, from: data)
                    reservations += page.reservations
                    cursor = limit == nil ? page.nextCursor : nil
                } while cursor != nil
                if json { return print(String(decoding: JSON.encode(ReservationListView(reservations: reservations, nextCursor: nil)), as: UTF8.self)) }
                guard !reservations.isEmpty else { return print("no reservations") }
                print(TextTable.render(["ID", "REFERENCE", "STATUS", "ARRIVAL", "DEPARTURE", "ROOM", "GUEST", "PERSONS"], reservations.map {
                    [$0.id, $0.reference, $0.status, $0.arrival, $0.departure, $0.room ?? "-", Self.primaryName($0),
                     "\($0.adults)+\($0.children)+\($0.babies)"]
                }))
            }
        }

        /// The API names its query parameters; here the person typed flags.
        static func translatingFilterErrors(_ body: () async throws -> Data) async throws -> Data {
            do {
                return try await body()
            } catch let error as CLIError {
                let flags = ["invalid_arrival_from": "--from", "invalid_arrival_to": "--to", "invalid_status": "--status"]
                guard let code = error.code, let flag = flags[code] else { throw error }
                throw CLIError("\(flag): " + (error.description.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""))
            }
        }

        static func primaryName(_ view: ReservationView) -> String {
            guard let guest = view.guests.first(where: \.primary) else { return "-" }
            return [guest.firstName, guest.lastName].filter { !$0.isEmpty }.joined(separator: " ")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One reservation and its guests.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The reservation's id (the PMS's).") var id: String
        @Flag(help: "Print typed JSON.") var json = false

        func run() async throws {
            try await reporting {
                let data = try await options.adminClient().send("GET", "/api/v1/reservations/\(FormData.encode(id))")
                if json { return print(String(decoding: data, as: UTF8.self)) }
                ReservationsCommand.describe(try JSON.decoder().decode(ReservationView.self, from: data))
            }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update a reservation from a JSON file (the API's ReservationInput; \"-\" reads stdin).")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The JSON file.") var file: String
        @Option(help: "The reservation's id, when the file has no \"id\".") var id: String?
        @Flag(help: "Print typed JSON.") var json = false

        func run() async throws {
            try await reporting {
                let body: Data
                if file == "-" {
                    body = FileHandle.standardInput.readDataToEndOfFile()
                } else {
                    guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("\(file): cannot read the file") }
                    body = data
                }
                let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
                guard let object else { throw CLIError("\(file): not a JSON object (a reservation, as in `portald reservations show ID --json`)") }
                guard let id = id ?? (object["id"] as? String) else { throw CLIError("\(file) has no \"id\"; give one with --id") }
                let (data, status) = try await options.adminClient().exchange("PUT", "/api/v1/reservations/\(FormData.encode(id))", body: body)
                if json { return print(String(decoding: data, as: UTF8.self)) }
                let view = try JSON.decoder().decode(ReservationView.self, from: data)
                print("\(status == 201 ? "created" : "stored") reservation \(view.id) (\(view.reference), \(view.status), \(view.arrival) → \(view.departure))")
                if let url = view.checkinURL { print("check-in link (shown once): \(url)") }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a reservation; its check-in link stops working.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The reservation's id.") var id: String

        func run() async throws {
            try await reporting {
                _ = try await options.adminClient().send("DELETE", "/api/v1/reservations/\(FormData.encode(id))")
                print("deleted reservation \(id)")
            }
        }
    }

    struct NewLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "new-link", abstract: "Make a new check-in link; the old one stops working.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The reservation's id.") var id: String

        func run() async throws {
            try await reporting {
                let data = try await options.adminClient().send("POST", "/api/v1/reservations/\(FormData.encode(id))/checkin-link")
                let view = try JSON.decoder().decode(ReservationView.self, from: data)
                print("\(view.checkinURL ?? "") (valid until \(RFC3339.string(view.checkinExpiresAt)))")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print everything portald keeps of a reservation's guests as JSON (GDPR access): the reservation, check-in details, the terms signature.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The reservation's id.") var id: String

        func run() async throws {
            try await reporting {
                let data = try await options.adminClient().send("GET", "/api/v1/reservations/\(FormData.encode(id))/personal-data")
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a reservation's personal data now (GDPR erasure): its check-in and the reservation; only its id and version stay.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The reservation's id.") var id: String

        func run() async throws {
            try await reporting {
                _ = try await options.adminClient().send("DELETE", "/api/v1/reservations/\(FormData.encode(id))/personal-data")
                print("erased the personal data of reservation \(id)")
            }
        }
    }

    static func describe(_ view: ReservationView) {
        print("\(view.id)  \(view.reference)  \(view.status)  \(view.arrival) → \(view.departure)  room \(view.room ?? "-")")
        print("  \(view.adults) adult(s), \(view.children) child(ren), \(view.babies) bab(ies); language \(view.language ?? "-"); version \(view.version.map(String.init) ?? "-")")
        for guest in view.guests {
            let contact = [guest.email, guest.phone].compactMap { $0 }.joined(separator: ", ")
            print("  \(guest.primary ? "*" : "-") \([guest.firstName, guest.lastName].filter { !$0.isEmpty }.joined(separator: " "))\(contact.isEmpty ? "" : " (\(contact))")")
        }
        print("  check-in link valid until \(RFC3339.string(view.checkinExpiresAt)); updated \(RFC3339.string(view.updatedAt))")
    }
}
