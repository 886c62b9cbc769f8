import Foundation
import TestSupport
import XCTest

/// Checkpoint folders that cannot take a checkpoint: a read-only file system, and a full one.
/// As root, permission bits do not stop writes, so these mount small tmpfs file systems (CI
/// runs as root on a VM); without mount they fail, never skip. Each mount is undone in tearDown.
final class CheckpointDiskTests: XCTestCase {
    private var dir = ""
    private var mounts: [String] = []

    private struct MountError: Error, CustomStringConvertible {
        let description: String
    }

    override func setUp() {
        dir = Lockstep.temporaryDirectory("disk")
    }

    override func tearDown() {
        for point in mounts.reversed() {
            var result = runProcess("/bin/umount", [point], timeout: 30)
            if result.status != 0 { result = runProcess("/bin/umount", ["-l", point], timeout: 30) }
            XCTAssertEqual(result.status, 0, "umount \(point) in tearDown\n\(result.output)")
        }
        mounts.removeAll()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Mounts a tmpfs with `options` at a new folder `name` under the test folder.
    private func mountTmpfs(_ name: String, options: String) throws -> String {
        let point = dir + "/" + name
        try FileManager.default.createDirectory(atPath: point, withIntermediateDirectories: true)
        let result = runProcess("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", point], timeout: 30)
        guard result.status == 0 else {
            let message = "cannot mount a tmpfs (-o \(options)) at \(point): these tests need root and mount(8), as CI has (uid \(getuid()))\n\(result.output)"
            XCTFail(message)
            throw MountError(description: message)
        }
        mounts.append(point)
        return point
    }

    func testReadOnlyCheckpointFolder() throws {
        let readOnly = try mountTmpfs("ro", options: "ro,size=1m")
        XCTAssertFalse(FileManager.default.createFile(atPath: readOnly + "/probe", contents: Data()), "the tmpfs is writable")

        // The folder itself, and a folder to be created inside it.
        for target in [readOnly, readOnly + "/ckpt"] {
            let result = Lockstep.run(Tiny.train(["train.steps=4", "checkpoint.dir=\(target)"]), timeout: 60)
            assertFailed(result, code: 1, contains: [target], "checkpoint.dir \(target) on a read-only file system")
            XCTAssertEqual(errorLines(result).count, 1, result.output)
            let line = errorLines(result).first?.lowercased() ?? ""
            XCTAssertTrue(line.contains("read-only") || line.contains("read only"), "the message says why: \(line)")
        }
    }

    func testFullDiskKeepsThePreviousCheckpoint() throws {
        // The size of one tiny checkpoint, from a real one.
        let probe = Lockstep.run(Tiny.train(["train.steps=2", "checkpoint.dir=\(dir)/probe"]), timeout: 60)
        assertSucceeded(probe, "a checkpoint on the normal disk")
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: "\(dir)/probe/\(checkpointName(step: 2))")[.size]
            as? NSNumber).intValue
        // tmpfs counts pages: room for one checkpoint and less than a second.
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = (size + page - 1) / page
        let full = try mountTmpfs("full", options: "size=\((2 * pages - 1) * page)")

        let result = Lockstep.run(Tiny.train(["train.steps=4", "checkpoint.every_steps=2", "checkpoint.dir=\(full)"]), timeout: 60)
        assertFailed(result, code: 1, contains: ["No space left on device"], "checkpoints on a tmpfs that holds one")
        let line = errorLines(result).first ?? ""
        XCTAssertTrue(line.contains("step 4"), "the message names the failed checkpoint: \(line)")
        XCTAssertEqual(errorLines(result).count, 1, result.output)

        XCTAssertEqual(checkpointFiles(in: full), [checkpointName(step: 2)])
        XCTAssertEqual(latestTarget(in: full), checkpointName(step: 2))
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: full)) ?? []).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [], "the failed write's temp file is removed")
        let verify = verifyCheckpoint(full + "/latest")
        XCTAssertEqual(verify.status, 0, "the first checkpoint survives the failed second\n\(verify.output)")
    }
}
