import Basics
import Foundation
import Runs
import TensorBoard
import Testing
import TestSupport

@Suite struct EventFileTests {
    /// An event file's bytes: a version record, then one record of scalars per step.
    static func eventBytes(steps: [Int64], tag: String = "loss") -> [UInt8] {
        var version = [UInt8]()
        // Event{wall_time: 1, file_version: "brain.Event:2"} written by hand, as a writer's first record.
        version = [0x09] + withUnsafeBytes(of: Double(1).bitPattern.littleEndian, Array.init) + [0x1A, 13] + Array("brain.Event:2".utf8)
        var bytes = RecordFraming.frame(version)
        for step in steps {
            bytes += RecordFraming.frame(ScalarEvents.encode(step: step, wallTime: 2, scalars: [(tag, Float(step) / 10)]))
        }
        return bytes
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func partialRecordsAreWaitedForAndCorruptOnesSkipped() throws {
        let path = TestSupport.temporaryDirectory() + "/events.out.tfevents.1.host"
        let whole = Self.eventBytes(steps: [1, 2, 3])
        var log = EventLog(path: path)
        var series = ScalarSeries()
        // Missing file: nothing yet, no error.
        #expect(try log.poll(into: &series) == false)
        // All but the last 5 bytes: two steps read, the third waited for.
        try AtomicFile.write(Array(whole.dropLast(5)), to: path)
        #expect(try log.poll(into: &series))
        #expect(series.points["loss"]?.map(\.step) == [1, 2])
        #expect(log.hasPartialRecord && log.corruptRecords == 0)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(whole.suffix(5)))
        // A record whose data checksum is wrong, then a good one.
        var bad = RecordFraming.frame(ScalarEvents.encode(step: 4, wallTime: 2, scalars: [("loss", 9)]))
        bad[bad.count - 6] ^= 0x40
        handle.write(Data(bad + RecordFraming.frame(ScalarEvents.encode(step: 5, wallTime: 2, scalars: [("loss", 0.5)]))))
        // Garbage bytes (a bad length checksum): skipped while looking for the next header.
        handle.write(Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]))
        handle.write(Data(RecordFraming.frame(ScalarEvents.encode(step: 6, wallTime: 2, scalars: [("loss", 0.25)]))))
        handle.closeFile()
        #expect(try log.poll(into: &series))
        #expect(series.points["loss"]?.map(\.step) == [1, 2, 3, 5, 6])
        #expect(series.latest("loss")?.value == 0.25)
        #expect(log.corruptRecords == 2)
        #expect(!log.hasPartialRecord)
    }

    @Test func aFileThatIsNotAnEventFileCountsAsCorruptAndNeverTraps() throws {
        let path = TestSupport.temporaryDirectory() + "/events.out.tfevents.2.host"
        try AtomicFile.write(Array("this is not an event file, only some text of a reasonable length".utf8), to: path)
        var log = EventLog(path: path)
        var series = ScalarSeries()
        _ = try log.poll(into: &series)
        #expect(series.tags.isEmpty)
        #expect(log.corruptRecords == 1)
    }

    @Test func aResumedRunDropsThePointsItRewindsOver() {
        var series = ScalarSeries()
        for step in [0.0, 10, 20, 30] { series.append(tag: "loss", step: step, value: step) }
        series.append(tag: "loss", step: 20, value: -1)
        #expect(series.points["loss"]?.map(\.step) == [0, 10, 20])
        #expect(series.latest("loss")?.value == -1)
    }

    @Test func eventRecordsFuzz() throws {
        let valid = Self.eventBytes(steps: [1, 2, 3, 4])
        let path = TestSupport.temporaryDirectory() + "/events.out.tfevents.3.host"
        var total = 0
        let outcome = Fuzz.run("event records", inputs: [valid], seed: 11) { bytes in
            try AtomicFile.write(bytes, to: path)
            var log = EventLog(path: path)
            var series = ScalarSeries()
            _ = try log.poll(into: &series)
            total += series.points["loss"]?.count ?? 0
            // Never more points than records, whatever the bytes.
            #expect((series.points["loss"]?.count ?? 0) <= 4 + bytes.count / 12)
        }
        #expect(outcome.rejected == 0, "reading an event file never fails, it skips and counts: \(outcome)")
        #expect(total > Fuzz.cases, "most mutated files still give points")
    }
}
