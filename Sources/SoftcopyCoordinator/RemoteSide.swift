import SoftcopyHTTP

/// The parts of a run in which agents do the copying.
final class RemoteSide {
    let job: String
    let fleet: AgentFleet
    let api: CoordinatorAPI
    let token: String?
    let caFile: String?

    init(job: String, fleet: AgentFleet, api: CoordinatorAPI, token: String?, caFile: String?) {
        self.job = job
        self.fleet = fleet
        self.api = api
        self.token = token
        self.caFile = caFile
    }
}
