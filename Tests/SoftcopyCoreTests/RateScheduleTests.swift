import Testing
import SoftcopyCore

@Suite("max_rate: one rate, or a daily timetable")
struct RateScheduleTests {
    @Test("a single rate, or off")
    func single() throws {
        let r = try RateSchedule(parsing: "200M")
        #expect(r.rate(atMinute: 0) == 200_000_000 && r.rate(atMinute: 1439) == 200_000_000)
        #expect(r.description == "200000000")
        #expect(try RateSchedule(parsing: "off").rate(atMinute: 600) == nil)
        #expect(try RateSchedule(parsing: "1.5GiB").rate(atMinute: 5) == 1_610_612_736)
    }

    @Test("a timetable: each entry holds from its time on; before the first, the last one of the day before")
    func timetable() throws {
        let r = try RateSchedule(parsing: "20:00,off  08:00,200M\t12:30,10M")
        #expect(r.rate(atMinute: 0) == nil, "00:00 is still 20:00's: off")
        #expect(r.rate(atMinute: 7 * 60 + 59) == nil)
        #expect(r.rate(atMinute: 8 * 60) == 200_000_000)
        #expect(r.rate(atMinute: 12 * 60 + 29) == 200_000_000)
        #expect(r.rate(atMinute: 12 * 60 + 30) == 10_000_000)
        #expect(r.rate(atMinute: 20 * 60) == nil)
        #expect(r.description == "08:00,200000000 12:30,10000000 20:00,off")
        #expect(try RateSchedule(parsing: r.description) == r, "its description parses back to it")
        #expect(try RateSchedule(parsing: "8:05,1M").rate(atMinute: 8 * 60 + 5) == 1_000_000)
    }

    @Test("bad timetables are refused, naming the entry", arguments: [
        ("", "an empty rate"), ("fast", "'fast' in 'fast' is not a rate"), ("0", "'0' in '0' is not a rate"),
        ("08:00", "'08:00' in '08:00' is not a rate"), ("08:00,200M,1", "'08:00,200M,1' in '08:00,200M,1' is not TIME,RATE"),
        ("24:00,1M", "'24:00' in '24:00,1M' is not a time of day"), ("08:60,1M", "'08:60' in '08:60,1M' is not a time of day"),
        ("Mon-08:00,1M", "weekdays are not supported"), ("08:00,1M 08:00,2M", "08:00 comes twice"),
        ("08:00,lots", "'lots' in '08:00,lots' is not a rate"),
    ])
    func refused(text: String, message: String) {
        do {
            _ = try RateSchedule(parsing: text)
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.text.contains(message), "\(error.text)")
        }
    }
}
