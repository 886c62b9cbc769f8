import Foundation
import TestSupport
import XCTest

/// The real binary on a real single-node SLURM cluster (scripts/slurm/local-cluster: munged,
/// slurmctld and slurmd on 127.0.0.1), started once for the class and stopped after it.
/// Jobs go through scripts/slurm/train.sbatch, as users submit them.
final class SlurmTests: XCTestCase {
    /// The cluster's folder (config, state, logs, munge socket) and the jobs' files.
    nonisolated(unsafe) private static var clusterDir = ""
    /// The SLURM_CONF that `local-cluster start` printed; empty if it failed.
    nonisolated(unsafe) private static var slurmConf = ""
    /// What `local-cluster start` said when it failed.
    nonisolated(unsafe) private static var startFailure = ""
    /// The cluster's node: this machine's short host name.
    nonisolated(unsafe) private static var node = ""
    /// A port pair of its own, so that a cluster someone started by hand on the default ports
    /// does not collide with the tests'.
    private static let port = "6837"

    private static let script = Lockstep.path("scripts/slurm/local-cluster")

    override class func setUp() {
        super.setUp()
        clusterDir = Lockstep.temporaryDirectory("slurm")
        node = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        let start = runProcess(script, ["start", "--dir", clusterDir], environment: ["LOCKSTEP_SLURM_PORT": port],
                               timeout: 180)
        let exportLine = start.stdout.split(separator: "\n").last { $0.hasPrefix("export SLURM_CONF=") }
        if start.status == 0, let exportLine {
            slurmConf = String(exportLine.dropFirst("export SLURM_CONF=".count))
            print("local-cluster start: \(String(format: "%.2f", start.seconds)) s to an idle node")
        } else {
            startFailure = "scripts/slurm/local-cluster start failed; SLURM tests need slurm-wlm and munge "
                + "(scripts/install-deps --test) and root\n\(start.output)"
        }
    }

    override class func tearDown() {
        let stop = runProcess(script, ["stop", "--dir", clusterDir], timeout: 120)
        let status = runProcess(script, ["status", "--dir", clusterDir], timeout: 30)
        if stop.status != 0 || status.status != 3 {
            // Keep the folder and its logs for whoever looks into it.
            print("local-cluster stop did not leave the cluster stopped:\n\(stop.output)\n\(status.output)")
        } else {
            try? FileManager.default.removeItem(atPath: clusterDir)
        }
        super.tearDown()
    }

    /// Each test fails (not skips) when the cluster did not start, with what local-cluster said.
    override func setUp() {
        super.setUp()
        if !Self.startFailure.isEmpty { XCTFail(Self.startFailure) }
    }

    /// SLURM_CONF for the client commands, on top of what every launch gets.
    private var environment: [String: String] { Lockstep.environment.merging(["SLURM_CONF": Self.slurmConf]) { $1 } }

    /// Runs a SLURM client command (sbatch, srun, scontrol, ...) from the repository root.
    /// `extra` joins the environment, which sbatch passes on to the job (--export=ALL).
    private func slurm(_ command: String, _ arguments: [String], extra: [String: String] = [:], timeout: Double = 60) -> ProcessResult {
        runProcess("/usr/bin/" + command, arguments, environment: environment.merging(extra) { $1 }, currentDirectory: Lockstep.root,
                   timeout: timeout)
    }

    /// `scontrol show job ID` as its Key=Value fields.
    private func jobFields(_ id: String) -> [String: String] {
        SlurmJob.fields(slurm("scontrol", ["show", "job", id]).stdout)
    }

    /// The daemons' logs, for failure messages.
    private func daemonLogs() -> String {
        ["munged", "slurmctld", "slurmd"].map { name in
            let path = "\(Self.clusterDir)/log/\(name).log"
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(cannot read)"
            return "--- \(path)\n" + text.split(separator: "\n", omittingEmptySubsequences: false).suffix(40).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Polls `scontrol show job` until the job leaves PENDING, CONFIGURING, RUNNING and
    /// COMPLETING; nil (after a failure with the output and the logs) if `timeout` passes first.
    private func waitForJob(_ id: String, output: String, timeout: Double) -> [String: String]? {
        let (fields, ended) = SlurmJob.wait(timeout: timeout) { jobFields(id) }
        if ended { return fields }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? "(no output file)"
        XCTFail("job \(id) did not finish in \(Int(timeout)) s; last state \(fields["JobState"] ?? "unknown") "
            + "(\(fields["Reason"] ?? ""))\n--- \(output)\n\(text)\n\(daemonLogs())")
        _ = slurm("scancel", [id])
        return nil
    }

    /// train.sbatch on Configs/tiny.toml with 2 tasks: the job completes with exit code 0, its
    /// output has rank 0's progress lines for a world of 2, and the summary records the job.
    func testTrainBatchJobOnTwoTasks() throws {
        guard Self.startFailure.isEmpty else { return }  // setUp has failed the test
        let outputDir = Self.clusterDir + "/train-out"
        let output = Self.clusterDir + "/train-%j.out"
        let submitted = Date()
        let submit = slurm("sbatch", ["--parsable", "--ntasks=2", "--output=\(output)",
                                      "--export=ALL,CONFIG=Configs/tiny.toml,OUTPUT_DIR=\(outputDir)",
                                      Lockstep.path("scripts/slurm/train.sbatch")])
        XCTAssertEqual(submit.status, 0, submit.output)
        let jobId = String(submit.stdout.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard submit.status == 0, Int(jobId) != nil else {
            return XCTFail("sbatch printed no job id\n\(submit.output)\n\(daemonLogs())")
        }
        let outputFile = output.replacingOccurrences(of: "%j", with: jobId)
        guard let job = waitForJob(jobId, output: outputFile, timeout: 180) else { return }
        print("job \(jobId): submitted to \(job["JobState"] ?? "?") in \(String(format: "%.2f", Date().timeIntervalSince(submitted))) s")

        let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        let context = "job \(jobId): \(job["JobState"] ?? "?") \(job["ExitCode"] ?? "?")\n--- \(outputFile)\n\(text)"
        XCTAssertEqual(job["JobState"], "COMPLETED", context + "\n" + daemonLogs())
        XCTAssertEqual(job["ExitCode"], "0:0", context)
        XCTAssertEqual(job["NumTasks"], "2", context)

        // Rank 0 alone prints: one header for a world of 2, then the steps up to 128 of 128.
        let lines = text.split(separator: "\n")
        let headers = lines.filter { $0.hasPrefix("lockstep ") }
        XCTAssertEqual(headers.count, 1, context)
        XCTAssertTrue(headers.first?.contains("world 2, global batch 64, 128 steps") ?? false, context)
        let steps = lines.filter { $0.hasPrefix("step ") }
        XCTAssertGreaterThanOrEqual(steps.count, 3, context)
        XCTAssertTrue(steps.last?.hasPrefix("step 128/128  epoch 2/2  loss ") ?? false, context)
        XCTAssertEqual(lines.filter { $0.hasPrefix("done: 128 steps, test accuracy ") }.count, 1, context)

        let summaryPath = outputDir + "/summary.json"
        let summary = try Lockstep.summary(at: summaryPath)
        XCTAssertEqual(summary["world"] as? Int, 2, "\(summaryPath)\n\(summary)")
        XCTAssertEqual(summary["nodes"] as? Int, 1, "\(summaryPath)\n\(summary)")
        XCTAssertEqual(summary["steps"] as? Int, 128, "\(summaryPath)\n\(summary)")
        let accuracy = try XCTUnwrap(summary["test_accuracy"] as? Double, "\(summaryPath)\n\(summary)")
        XCTAssertGreaterThan(accuracy, 0.9, "\(summaryPath)\n\(summary)")
        XCTAssertEqual(summary["slurm_job_id"] as? String, jobId, "\(summaryPath)\n\(summary)")
        XCTAssertEqual(summary["node_list"] as? String, job["NodeList"], "\(summaryPath)\n\(summary)")
        XCTAssertEqual(summary["node_list"] as? String, Self.node, "\(summaryPath)\n\(summary)")
    }

    /// The GPT through the same batch script: two tasks train the tiny GPT on a synthetic text.
    func testGPTTrainBatchJob() throws {
        guard Self.startFailure.isEmpty else { return }  // setUp has failed the test
        let outputDir = Self.clusterDir + "/gpt-out"
        let output = Self.clusterDir + "/gpt-%j.out"
        let text = Self.clusterDir + "/gpt-text.txt"
        TinyGPT.writeText(to: text)
        let submit = slurm("sbatch", ["--parsable", "--ntasks=2", "--output=\(output)", Lockstep.path("scripts/slurm/train.sbatch")],
                           extra: ["CONFIG": "Configs/tiny-gpt.toml", "OUTPUT_DIR": outputDir,
                                   "TRAIN_ARGS": "--set data.path=\(text) --set train.steps=40 --set train.eval_every=20"])
        let jobId = String(submit.stdout.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard submit.status == 0, Int(jobId) != nil else {
            return XCTFail("sbatch printed no job id\n\(submit.output)\n\(daemonLogs())")
        }
        let outputFile = output.replacingOccurrences(of: "%j", with: jobId)
        guard let job = waitForJob(jobId, output: outputFile, timeout: 180) else { return }
        let context = "job \(jobId): \(job["JobState"] ?? "?")\n\((try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "")"
        XCTAssertEqual(job["JobState"], "COMPLETED", context + "\n" + daemonLogs())
        let summary = try Lockstep.summary(at: outputDir + "/summary.json")
        XCTAssertEqual(summary["world"] as? Int, 2, context)
        XCTAssertEqual(summary["steps"] as? Int, 40, context)
        XCTAssertGreaterThan(try XCTUnwrap(summary["tokens_per_s"] as? Double), 0, context)
        XCTAssertLessThan(try XCTUnwrap(summary["val_loss"] as? Double), log(256.0), context)
        XCTAssertEqual(summary["slurm_job_id"] as? String, jobId, context)
    }

    /// The time limit's path end to end: SIGTERM to the job's steps (what --signal=TERM@60
    /// sends) makes training checkpoint and exit 75, train.sbatch requeues the job, and the
    /// requeued job resumes from `latest` by itself and finishes every step.
    func testSIGTERMRequeuesTheJobAndItResumesFromLatest() throws {
        guard Self.startFailure.isEmpty else { return }  // setUp has failed the test
        let outputDir = Self.clusterDir + "/requeue-out"
        let output = Self.clusterDir + "/requeue-%j.out"
        let steps = 200_000
        let submit = slurm("sbatch", ["--parsable", "--ntasks=2", "--output=\(output)", Lockstep.path("scripts/slurm/train.sbatch")],
                           extra: ["CONFIG": "Configs/tiny.toml", "OUTPUT_DIR": outputDir,
                                   "TRAIN_ARGS": "--set train.steps=\(steps) --set train.log_every=2000 --set train.eval_every=50000 "
                                       + "--set checkpoint.every_epoch=false --set checkpoint.every_steps=50000"])
        let jobId = String(submit.stdout.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard submit.status == 0, Int(jobId) != nil else {
            return XCTFail("sbatch printed no job id\n\(submit.output)\n\(daemonLogs())")
        }
        let outputFile = output.replacingOccurrences(of: "%j", with: jobId)
        func log() -> String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }

        // Signal once training is under way, as the warning before a time limit comes.
        var deadline = Date().addingTimeInterval(120)
        while Date() < deadline && !log().contains("\nstep ") { usleep(100_000) }
        guard log().contains("\nstep ") else {
            _ = slurm("scancel", [jobId])
            return XCTFail("job \(jobId) printed no progress in 120 s\n\(log())\n\(daemonLogs())")
        }
        let signal = slurm("scancel", ["--signal=TERM", jobId])
        XCTAssertEqual(signal.status, 0, signal.output)

        // SLURM holds a requeued job until a begin time about two minutes on; let it start as
        // soon as the stopped step's slurmstepd has exited (a new step 0 of the same job
        // cannot launch while the old one is still cleaning up).
        deadline = Date().addingTimeInterval(120)
        var released = false
        while Date() < deadline && !released {
            let fields = jobFields(jobId)
            let oldStep = runProcess("/usr/bin/pgrep", ["-f", "slurmstepd: \\[\(jobId)\\.0\\]"], timeout: 10)
            if fields["JobState"] == "PENDING" && (Int(fields["Restarts"] ?? "") ?? 0) >= 1 && oldStep.status == 1 {
                let update = slurm("scontrol", ["update", "JobId=\(jobId)", "StartTime=now"])
                XCTAssertEqual(update.status, 0, update.output)
                released = true
            } else if let state = fields["JobState"], !SlurmJob.activeStates.contains(state) {
                break
            }
            usleep(200_000)
        }
        XCTAssertTrue(released, "job \(jobId) was not requeued: \(jobFields(jobId))\n\(log())")
        guard let job = waitForJob(jobId, output: outputFile, timeout: 240) else { return }
        let text = log()
        let context = "job \(jobId): \(job["JobState"] ?? "?") \(job["ExitCode"] ?? "?")\n--- \(outputFile)\n\(text)"
        XCTAssertEqual(job["JobState"], "COMPLETED", context + "\n" + daemonLogs())
        XCTAssertEqual(job["ExitCode"], "0:0", context)
        XCTAssertEqual(job["Restarts"], "1", context)
        for line in ["lockstep: stopped by SIGTERM after step", "exit code 75",
                     "train.sbatch: training checkpointed and stopped (exit 75); requeueing job \(jobId)",
                     "train.sbatch: job \(jobId) (restart 1)", "resuming from latest", "lockstep: note: resuming from ",
                     "done: \(steps) steps"] {
            XCTAssertTrue(text.contains(line), "the job log lacks \"\(line)\"\n\(context)")
        }
        let summary = try Lockstep.summary(at: outputDir + "/summary.json")
        XCTAssertEqual(summary["steps"] as? Int, steps, "\(summary)")
        let checkpoint = try XCTUnwrap(summary["checkpoint"] as? [String: Any], "\(summary)")
        XCTAssertTrue((checkpoint["resumed_from"] as? String ?? "").hasPrefix(outputDir + "/checkpoints/ckpt-"), "\(checkpoint)")
    }

    /// scale.sbatch on Configs/tiny.toml with 2 tasks: `lockstep scale --launcher srun` runs
    /// worlds 1 and 2 as job steps, and the job completes with the whole report written.
    func testScaleBatchJobWritesTheReport() throws {
        guard Self.startFailure.isEmpty else { return }  // setUp has failed the test
        let outputDir = Self.clusterDir + "/scale-out"
        let output = Self.clusterDir + "/scale-%j.out"
        let submit = slurm("sbatch", ["--parsable", "--ntasks=2", "--output=\(output)",
                                      Lockstep.path("scripts/slurm/scale.sbatch")],
                           // In the environment rather than --export, which splits values at commas.
                           extra: ["CONFIG": "Configs/tiny.toml", "RANKS": "1,2", "OUTPUT_DIR": outputDir,
                                   "SCALE_ARGS": "--set train.steps=40"])
        let jobId = String(submit.stdout.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard submit.status == 0, Int(jobId) != nil else {
            return XCTFail("sbatch printed no job id\n\(submit.output)\n\(daemonLogs())")
        }
        let outputFile = output.replacingOccurrences(of: "%j", with: jobId)
        guard let job = waitForJob(jobId, output: outputFile, timeout: 300) else { return }
        let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        let context = "job \(jobId): \(job["JobState"] ?? "?") \(job["ExitCode"] ?? "?")\n--- \(outputFile)\n\(text)"
        XCTAssertEqual(job["JobState"], "COMPLETED", context + "\n" + daemonLogs())
        XCTAssertEqual(job["ExitCode"], "0:0", context)
        // One srun per world, each a step of this job.
        XCTAssertTrue(text.contains("srun -n 1 --mpi=pmix"), context)
        XCTAssertTrue(text.contains("srun -n 2 --mpi=pmix"), context)
        XCTAssertTrue(text.contains("report: \(outputDir)/report.md"), context)

        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outputDir + "/report.json")))
                                   as? [String: Any], "report.json of job \(jobId)")
        XCTAssertEqual(report["launcher"] as? String, "srun", "\(report)")
        let runs = try XCTUnwrap(report["runs"] as? [[String: Any]], "runs in report.json")
        XCTAssertEqual(runs.compactMap { $0["world"] as? Int }, [1, 2])
        XCTAssertEqual(runs.compactMap { $0["status"] as? String }, ["ok", "ok"], "\(runs)")
        for run in runs {
            let summary = try XCTUnwrap(run["summary"] as? [String: Any], "a summary for world \(run["world"] ?? "?")")
            XCTAssertEqual(summary["slurm_job_id"] as? String, jobId, "the runs are steps of the batch job")
            XCTAssertEqual(summary["steps"] as? Int, 40)
        }
        let markdown = try String(contentsOfFile: outputDir + "/report.md", encoding: .utf8)
        let charts = (try FileManager.default.contentsOfDirectory(atPath: outputDir)).filter { $0.hasSuffix(".svg") }
        XCTAssertGreaterThanOrEqual(charts.count, 3, "throughput, efficiency and breakdown charts: \(charts)")
        for chart in charts {
            XCTAssertTrue(markdown.contains("(\(chart))"), "report.md links \(chart)")
        }
    }

    /// srun with PMI-2: Open MPI here speaks PMIx only, so every rank stops in MPI_Init with
    /// its message about SLURM's PMI support (Docs/slurm.md quotes it), and no summary appears.
    func testSrunWithPMI2FailsWithOpenMPIMessage() throws {
        guard Self.startFailure.isEmpty else { return }  // setUp has failed the test
        let name = "pmi2-\(UUID().uuidString.prefix(8))"
        let summaryPath = Self.clusterDir + "/\(name).json"
        let run = slurm("srun", ["--mpi=pmi2", "--ntasks=2", "--job-name=\(name)", Lockstep.binary, "train",
                                 "--config", Lockstep.path("Configs/tiny.toml"), "--summary", summaryPath], timeout: 120)
        if run.timedOut {
            // A killed srun leaves its job running; cancel it so that it does not hold the node.
            _ = slurm("scancel", ["--name=\(name)"])
            XCTFail("srun --mpi=pmi2 did not finish in 120 s\n\(run.output)\n\(daemonLogs())")
        }
        XCTAssertEqual(run.status, 1, run.output)
        let messages = [
            "The application appears to have been direct launched using \"srun\",\nbut OMPI was not built with SLURM's PMI support and therefore cannot\nexecute.",
            "version 16.05 or later: you can use SLURM's PMIx support.",
            "*** An error occurred in MPI_Init_thread",
            // "tasks 0-1" when both ranks exit together, one line per task otherwise.
            "srun: error: \(Self.node): task",
            ": Exited with exit code 1",
        ]
        for message in messages {
            XCTAssertTrue(run.stderr.contains(message), "srun --mpi=pmi2 did not print \"\(message)\"\n\(run.output)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: summaryPath), "a summary appeared at \(summaryPath)")

        // SLURM records the job as failed, with the tasks' exit code.
        let listed = slurm("squeue", ["--states=all", "--name=\(name)", "--noheader", "--format=%i"])
        let jobId = listed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertNotNil(Int(jobId), "squeue found no single job named \(name)\n\(listed.output)")
        let job = jobFields(jobId)
        XCTAssertEqual(job["JobState"], "FAILED", "\(job)")
        XCTAssertEqual(job["ExitCode"], "1:0", "\(job)")
    }
}
