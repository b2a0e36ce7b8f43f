import Dispatch
import Synchronization
import Testing
import SoftcopyCore

@Suite("Space reservations: transfer threads never promise the same free space twice")
struct SpaceReservationsTests {
    @Test("sizes are promised in turn while they fit above the reserve; released room is promised again")
    func inTurn() {
        let reservations = SpaceReservations()
        let first = reservations.claim([40, 40, 40], reserve: 10) { 100 }
        #expect(first.free == 100)
        #expect(first.refused == [nil, nil, 80], "the third would leave 100 - 80 - 40 < 10")
        #expect(reservations.outstanding == 80)
        // Another thread, the disk unchanged: only 10 bytes left to promise.
        #expect(reservations.claim([20, 10], reserve: 10) { 100 }.refused == [80, nil])
        reservations.release(90)
        #expect(reservations.outstanding == 0)
        #expect(reservations.claim([5], reserve: 200) { 100 }.refused == [0], "below the reserve already")
        reservations.release(1)
        #expect(reservations.outstanding == 0, "a release never goes below nothing")
    }

    @Test("threads that measure, promise, write and release together never fill the disk past its reserve")
    func concurrentWriters() {
        // A disk of 20,000 units with a reserve of 100; each thread writes files of 7 units
        // until the disk refuses it. `written` is what statfs would see; measuring takes a
        // while, as a syscall does, so another thread's file can land meanwhile.
        let capacity: UInt64 = 20_000, reserve: UInt64 = 100, size: UInt64 = 7
        let written = Atomic<UInt64>(0)
        let peak = Atomic<UInt64>(0)
        let busy = Atomic<Int>(0)
        let reservations = SpaceReservations()
        let measure: @Sendable () -> UInt64 = {
            let free = capacity - written.load(ordering: .sequentiallyConsistent)
            for _ in 0..<200 { busy.add(1, ordering: .relaxed) }
            return free
        }
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 {
                let (_, refused) = reservations.claim([size], reserve: reserve, measure: measure)
                if refused[0] != nil { break }
                let now = written.add(size, ordering: .sequentiallyConsistent).newValue
                peak.max(now, ordering: .sequentiallyConsistent)
                reservations.release(size)
            }
        }
        #expect(peak.load(ordering: .sequentiallyConsistent) <= capacity - reserve)
        #expect(written.load(ordering: .sequentiallyConsistent) > capacity - reserve - size, "it filled up to the reserve")
        #expect(reservations.outstanding == 0)
    }
}
