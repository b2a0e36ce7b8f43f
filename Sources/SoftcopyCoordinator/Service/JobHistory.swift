import GRDB
import Glibc
import Synchronization
public import SoftcopyCore
import SoftcopyIO

/// Every archive a job copied, kept in SQLite (through GRDB) in the coordinator's state
/// folder: source, destination, start, end, reason, figures, verdict, problems and agents.
/// A row is written when the archive's copy starts and completed when it ends, so that a
/// restart, the dashboard or `sqlite3 history.sqlite` shows what was copied when.
///
/// The history never decides whether a copy is right (the destination's journal and
/// manifest do); it decides only which watched archives a restarted service takes up
/// again. A history that cannot be opened or written is logged and left out: the copy
/// goes on without it.
public final class JobHistory: Sendable {
    public static let fileName = "history.sqlite"
    /// Rows the dashboard and the status document show.
    public static let recentLimit = 200

    /// One archive's row.
    public struct Entry: Sendable {
        public var row: Int64
        public var job: String
        public var source: String
        public var destination: String
        public var watchFolder: String?
        public var started: String
        public var finished: String?
        /// "running" until the end, then `CoordinatorRun.statusName`'s word.
        public var status: String
        public var exitCode: Int?
        public var reason: String?
        public var files: Int
        public var bytes: UInt64
        public var copiedFiles: Int
        public var copiedBytes: UInt64
        public var problems: Int
        public var firstProblems: [String]
        public var agents: [String]
        /// The source's `ArchiveFinder.Fingerprint` when the job ended (watched archives).
        public var fingerprint: String?

        public var json: JSONValue {
            .object([
                ("row", .integer(row)), ("job", .string(job)), ("source", .string(source)), ("destination", .string(destination)),
                ("watch_folder", watchFolder.map { .string($0) } ?? .null),
                ("started", .string(started)), ("finished", finished.map { .string($0) } ?? .null),
                ("status", .string(status)), ("exit_code", exitCode.map { .integer($0) } ?? .null),
                ("reason", reason.map { .string($0) } ?? .null),
                ("files", .integer(files)), ("bytes", .integer(bytes)),
                ("copied_files", .integer(copiedFiles)), ("copied_bytes", .integer(copiedBytes)),
                ("problems", .integer(problems)), ("first_problems", .array(firstProblems.map { .string($0) })),
                ("agents", .array(agents.map { .string($0) })),
            ])
        }
    }

    public let path: String
    private let database: DatabaseQueue
    /// The newest rows, newest first: read by the status API without touching the file.
    private let recent = Mutex<[Entry]>([])

    /// Opens (or makes) the history in `directory`. Rows left "running" by a process that
    /// is gone (a crash, a power cut) become "interrupted".
    public init(directory: String) throws {
        try DestinationTree.makeDirectories(directory)
        path = directory + "/" + Self.fileName
        var configuration = Configuration()
        // Another coordinator (a `verify`, a second service) may write at the same moment.
        configuration.busyMode = .timeout(10)
        database = try DatabaseQueue(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE job (
                    row INTEGER PRIMARY KEY AUTOINCREMENT,
                    job TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
                    source TEXT NOT NULL, destination TEXT NOT NULL, watch_folder TEXT, watch_date TEXT,
                    started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL, exit_code INTEGER, reason TEXT,
                    files INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
                    copied_files INTEGER NOT NULL DEFAULT 0, copied_bytes INTEGER NOT NULL DEFAULT 0,
                    problems INTEGER NOT NULL DEFAULT 0, first_problems TEXT NOT NULL DEFAULT '[]',
                    agents TEXT NOT NULL DEFAULT '[]', fingerprint TEXT, summary TEXT);
                CREATE INDEX job_by_source ON job(source, row);
                """)
        }
        try migrator.migrate(database)
        let host = Clock.hostName()
        try database.write { db in
            let running = try Row.fetchAll(db, sql: "SELECT row, pid FROM job WHERE status = 'running' AND host = ?", arguments: [host])
            for row in running where !ProcessProbe.isRunning(Int32(truncatingIfNeeded: row["pid"] as Int64)) {
                try db.execute(sql: "UPDATE job SET status = 'interrupted', reason = 'the coordinator stopped before the end' WHERE row = ?",
                               arguments: [row["row"] as Int64])
            }
        }
        let newest = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM job ORDER BY row DESC LIMIT ?", arguments: [Self.recentLimit]).map(Self.entry)
        }
        recent.withLock { $0 = newest }
    }

    /// The default state folder: systemd's `$STATE_DIRECTORY` (`StateDirectory=softcopy`),
    /// else `$XDG_STATE_HOME/softcopy`, else `~/.local/state/softcopy`.
    public static func defaultDirectory() -> String? {
        let environment = ProcessEnvironment.self
        if let d = environment.variable("STATE_DIRECTORY"), !d.isEmpty {
            return String(d.split(separator: ":").first ?? Substring(d))
        }
        if let d = environment.variable("XDG_STATE_HOME"), d.hasPrefix("/") { return d + "/softcopy" }
        return environment.homeDirectory().map { $0 + "/.local/state/softcopy" }
    }

    /// A new row for an archive whose copy starts now.
    public func begin(job: String, source: String, destination: String, watchFolder: String?, watchDate: String? = nil) throws -> Int64 {
        let started = Clock.wallTimestamp()
        let row = try database.write { db -> Int64 in
            try db.execute(sql: """
                INSERT INTO job (job, host, pid, source, destination, watch_folder, watch_date, started, status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running')
                """, arguments: [job, Clock.hostName(), Int64(getpid()), source, destination, watchFolder, watchDate, started])
            return db.lastInsertedRowID
        }
        let entry = Entry(row: row, job: job, source: source, destination: destination, watchFolder: watchFolder, started: started,
                          status: "running", files: 0, bytes: 0, copiedFiles: 0, copiedBytes: 0, problems: 0, firstProblems: [], agents: [])
        recent.withLock { rows in
            rows.insert(entry, at: 0)
            if rows.count > Self.recentLimit { rows.removeLast(rows.count - Self.recentLimit) }
        }
        return row
    }

    /// Completes a row with the end summary (the one `notify:` sends).
    public func end(row: Int64, summary: JSONValue, agents: [String], fingerprint: String?) throws {
        let problems = (summary["first_problems"]?.arrayValue ?? []).compactMap(\.stringValue)
        let int = { (key: String) in summary[key]?.int64Value ?? 0 }
        try database.write { db in
            try db.execute(sql: """
                UPDATE job SET finished = ?, status = ?, exit_code = ?, reason = ?, files = ?, bytes = ?, copied_files = ?,
                copied_bytes = ?, problems = ?, first_problems = ?, agents = ?, fingerprint = ?, summary = ? WHERE row = ?
                """, arguments: [
                    summary["finished"]?.stringValue ?? Clock.wallTimestamp(), summary["status"]?.stringValue ?? "unknown",
                    summary["exit_code"]?.int64Value, summary["reason"]?.stringValue, int("files"), int("bytes"),
                    int("copied_files"), int("copied_bytes"), int("problems"),
                    JSONValue.array(problems.map { .string($0) }).serialized(), JSONValue.array(agents.map { .string($0) }).serialized(),
                    fingerprint, summary.serialized(), row,
                ])
            if let updated = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE row = ?", arguments: [row]).map(Self.entry) {
                recent.withLock { rows in
                    if let i = rows.firstIndex(where: { $0.row == row }) { rows[i] = updated } else { rows.insert(updated, at: 0) }
                }
            }
        }
    }

    /// The newest rows, newest first (from memory).
    public var newest: [Entry] { recent.withLock { $0 } }

    /// The last row of `source` that has ended, if any.
    public func lastEnded(source: String) -> Entry? {
        try? database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM job WHERE source = ? AND finished IS NOT NULL ORDER BY row DESC LIMIT 1",
                             arguments: [source]).map(Self.entry)
        }
    }

    /// The `{date}` the first job of a watched archive had: the archive keeps its
    /// destination across restarts and days.
    public func lastDate(source: String) -> String? {
        try? database.read { db in
            try String.fetchOne(db, sql: "SELECT watch_date FROM job WHERE source = ? AND watch_date IS NOT NULL ORDER BY row LIMIT 1", arguments: [source])
        }
    }

    private static func entry(_ row: Row) -> Entry {
        let strings = { (text: String?) -> [String] in
            guard let text, let value = try? JSONParser.parse(text) else { return [] }
            return (value.arrayValue ?? []).compactMap(\.stringValue)
        }
        return Entry(
            row: row["row"], job: row["job"], source: row["source"], destination: row["destination"], watchFolder: row["watch_folder"],
            started: row["started"], finished: row["finished"], status: row["status"], exitCode: row["exit_code"], reason: row["reason"],
            files: row["files"], bytes: UInt64(clamping: row["bytes"] as Int64), copiedFiles: row["copied_files"],
            copiedBytes: UInt64(clamping: row["copied_bytes"] as Int64), problems: row["problems"],
            firstProblems: strings(row["first_problems"]), agents: strings(row["agents"]), fingerprint: row["fingerprint"])
    }
}
