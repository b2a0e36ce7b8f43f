import Synchronization
import Testing
import SoftcopyAgent
import SoftcopyIO

@Suite("Transfer slots: the jobs of one coordinator share nprocs, in turn")
struct TransferSlotsTests {
    @Test("a slot goes to those who asked in the order they asked, and never more at once than the capacity")
    func order() throws {
        let slots = TransferSlots(capacity: 1)
        let served = Mutex<[String]>([])
        slots.acquire()
        var threads: [OSThread] = []
        for name in ["first", "second", "third"] {
            let before = slots.waiting
            threads.append(OSThread(name: "slot-\(name)") {
                slots.acquire()
                served.withLock { $0.append(name) }
                slots.release()
            })
            // Each asks only once the one before is waiting: the order asked is known.
            #expect(eventually { slots.waiting == before + 1 })
        }
        #expect(served.withLock { $0 }.isEmpty, "the one slot is held")
        slots.release()
        for thread in threads { thread.join() }
        #expect(served.withLock { $0 } == ["first", "second", "third"])
        #expect(slots.waiting == 0)
    }
}
