import Foundation
import TestSupport
import XCTest

/// Errors that one rank meets and the others do not, as real clusters produce them, at worlds
/// 2 and 4, with the failing rank being rank 0 in one run and the last rank in another (where
/// the failure can be another rank's: only rank 0 writes checkpoints and the summary). Every
/// case must end the whole job within 10 s, with the exit code of README's table and one line
/// that names the rank and what went wrong.
final class FaultMatrixTests: XCTestCase {
    static let deadline = 10.0
    private var dir = ""
    private var mounts: [String] = []

    override func setUp() {
        dir = Lockstep.temporaryDirectory("faults")
        for folder in ["with-data", "without-data"] {
            try? FileManager.default.createDirectory(atPath: "\(dir)/\(folder)", withIntermediateDirectories: true)
        }
        TinyGPT.writeText(to: "\(dir)/with-data/text.txt")
    }

    override func tearDown() {
        for point in mounts.reversed() { _ = runProcess("/bin/umount", ["-l", point], timeout: 30) }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// One rank of an MPMD launch: its working folder, an optional shell prefix, its arguments.
    private struct Rank {
        var folder: String
        var shell: String?
        var arguments: [String]
    }

    /// `mpirun -np 1 [-wdir D] lockstep … : -np 1 …`, one context per rank; checks the exit
    /// code, the error line and the time, and prints the row of the matrix.
    private func expect(_ name: String, _ ranks: [Rank], code: Int32, line expected: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        var arguments = ["--oversubscribe"]
        for (r, rank) in ranks.enumerated() {
            if r > 0 { arguments.append(":") }
            arguments += ["-np", "1", "-wdir", rank.folder]
            if let shell = rank.shell {
                arguments += ["/bin/sh", "-c", shell + " exec " + ([Lockstep.binary] + rank.arguments).map { "'\($0)'" }.joined(separator: " ")]
            } else {
                arguments += [Lockstep.binary] + rank.arguments
            }
        }
        let result = runProcess("/usr/bin/mpirun", arguments, environment: Lockstep.environment, currentDirectory: dir, timeout: 60)
        print("fault matrix: \(name), world \(ranks.count): exit \(result.status) after \(String(format: "%.1f", result.seconds)) s")
        assertFailed(result, code: code, contains: [expected], "\(name) at world \(ranks.count)", file: file, line: line)
        XCTAssertLessThanOrEqual(result.seconds, Self.deadline, "\(name) at world \(ranks.count): the job took too long to end\n\(result.output)",
                                 file: file, line: line)
        XCTAssertEqual(errorLines(result).count, 1, "\(name) at world \(ranks.count): one error line\n\(result.output)",
                       file: file, line: line)
    }

    private func gpt(_ settings: [String], _ extra: [String] = []) -> [String] {
        TinyGPT.train(text: "text.txt", settings, extra)
    }

    /// Every rank runs `arguments` in the folder with the data, but `failing`, which runs `its`
    /// (in `folder`, under `shell`).
    private func ranks(_ world: Int, failing: Int, _ arguments: [String], its: [String]? = nil, folder: String? = nil,
                       shell: String? = nil) -> [Rank] {
        (0..<world).map { r in
            r == failing ? Rank(folder: folder ?? "\(dir)/with-data", shell: shell, arguments: its ?? arguments)
                : Rank(folder: "\(dir)/with-data", shell: nil, arguments: arguments)
        }
    }

    func testAConfigMissingOnOneRank() {
        for world in [2, 4] {
            for failing in [0, world - 1] {
                let its = ["train", "--config", "\(dir)/missing.toml", "--quiet"]
                expect("config missing on rank \(failing)", ranks(world, failing: failing, gpt(["train.steps=3"]), its: its),
                       code: 2, line: "lockstep: error: rank \(failing): config: \(dir)/missing.toml: no such file")
            }
        }
    }

    func testADatasetMissingOnOneRank() {
        for world in [2, 4] {
            for failing in [0, world - 1] {
                expect("dataset missing on rank \(failing)",
                       ranks(world, failing: failing, gpt(["train.steps=3"]), folder: "\(dir)/without-data"),
                       code: 1, line: "lockstep: error: rank \(failing): data: text.txt: not found")
            }
        }
    }

    /// Only rank 0 writes checkpoints: its folder is a file.
    func testACheckpointFolderUnusableAtStart() {
        FileManager.default.createFile(atPath: "\(dir)/a-file", contents: Data())
        for world in [2, 4] {
            expect("checkpoint.dir unusable on rank 0", ranks(world, failing: 0, gpt(["train.steps=3", "checkpoint.dir=\(dir)/a-file"])),
                   code: 1, line: "lockstep: error: rank 0: checkpoint: checkpoint.dir \(dir)/a-file: not writable: Not a directory")
        }
    }

    /// Only rank 0 writes checkpoints: a tmpfs too small for one (as a full disk) fails its
    /// first write, in the middle of the run.
    func testACheckpointWriteFailingMidRun() throws {
        let full = "\(dir)/full"
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        let mount = runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", full], timeout: 30)
        guard mount.status == 0 else {
            return XCTFail("cannot mount a tmpfs at \(full): this test needs root and mount(8), as CI has\n\(mount.output)")
        }
        mounts.append(full)
        for world in [2, 4] {
            expect("a checkpoint write failing mid-run on rank 0",
                   ranks(world, failing: 0, gpt(["train.steps=40", "checkpoint.every_steps=2", "checkpoint.dir=\(full)"])),
                   code: 1, line: "lockstep: error: rank 0: checkpoint: checkpoint at step 2: \(full)/.ckpt-00000002.safetensors.tmp: write failed: No space left on device; the previous checkpoint is intact")
        }
    }

    /// Only rank 0 writes the summary.
    func testASummaryPathUnwritable() {
        for world in [2, 4] {
            expect("--summary unwritable on rank 0",
                   ranks(world, failing: 0, gpt(["train.steps=3"], ["--summary", "\(dir)/no/such/folder/s.json"])),
                   code: 2, line: "lockstep: error: rank 0: --summary \(dir)/no/such/folder/s.json: the folder \(dir)/no/such/folder does not exist")
        }
    }

    /// A rank whose process may not map the model (ulimit -v, as a node with less memory): its
    /// start-up check finds that the model would not fit, before anything is allocated.
    func testAFailureToAllocateOnOneRank() {
        let big = gpt(["train.steps=3", "model.embed=1024", "model.layers=8", "model.heads=8"])
        for world in [2, 4] {
            for failing in [0, world - 1] {
                expect("a failure to allocate on rank \(failing)", ranks(world, failing: failing, big, shell: "ulimit -v 1200000;"),
                       code: 2, line: "lockstep: error: rank \(failing): config: --set model.layers=8: the run's buffers need 1.7 GB per rank, but the address-space limit (ulimit -v) leaves ")
            }
        }
    }
}
