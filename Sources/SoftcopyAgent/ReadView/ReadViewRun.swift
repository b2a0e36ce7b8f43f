import SoftcopyCore

/// The run that is copying into a destination, as the agent notes it at attach
/// (`DEST/.softcopy/run.json`) and removes it once the run's manifest is stored: while it
/// is there, the coordinator named in it is the read view's record, not an older
/// manifest (an agent that restarted mid-run, before its coordinator attached it again,
/// must not serve what an earlier run verified).
struct ReadViewRun: Sendable, Equatable {
    static let relativePath = RelativePath(unchecked: ZarrNaming.stateDirectoryName + "/run.json")

    var job: String
    var coordinator: String
    var lane: LaneID

    var bytes: [UInt8] {
        Array((JSONValue.object([("job", .string(job)), ("coordinator", .string(coordinator)), ("lane", .integer(lane.rawValue))]).serialized() + "\n").utf8)
    }

    init(job: String, coordinator: String, lane: LaneID) {
        self.job = job
        self.coordinator = coordinator
        self.lane = lane
    }

    init?(bytes: [UInt8]) {
        guard let json = try? JSONParser.parse(bytes: bytes), let job = json["job"]?.stringValue, let coordinator = json["coordinator"]?.stringValue,
              let lane = json["lane"]?.int64Value, lane >= 0 else { return nil }
        self.init(job: job, coordinator: coordinator, lane: LaneID(Int(lane)))
    }
}
