import Reports
import Train
import XCTest

/// The pieces of `lockstep bench compare` that need no process: the launch plan and the
/// statistics made of the runs.
final class ComparisonTests: XCTestCase {
    private func plan(worlds: [Int], repeats: Int = 2, steps: Int = 200, target: ComparisonPlan.Target? = nil, cores: Int = 2) -> ComparisonPlan {
        ComparisonPlan(config: "c.toml", worlds: worlds, repeats: repeats, steps: steps, target: target, cores: cores,
                       mpirun: "/usr/bin/mpirun", lockstep: "/bin/lockstep", python: "/usr/bin/python3", reference: "ref.py",
                       directory: "/tmp/w")
    }

    func testLaunchesAlternateSystemsInRoundsOfEveryWorldThroughputFirst() {
        let p = plan(worlds: [1, 2], target: .init(accuracy: 0.88, evalEvery: 117, maxEpochs: 20))
        XCTAssertEqual(p.launches.count, 2 * 2 * 2 * 2)
        XCTAssertEqual(p.launches.map(\.system), Array(repeating: [ComparisonPlan.System.lockstep, .pytorch], count: 8).flatMap { $0 })
        XCTAssertEqual(p.launches.map(\.world), Array(repeating: [1, 1, 2, 2], count: 4).flatMap { $0 })
        XCTAssertEqual(p.launches.map(\.repetition), [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2])
        XCTAssertEqual(p.launches.map(\.kind), Array(repeating: .throughput, count: 8) + Array(repeating: .accuracy, count: 8))
        XCTAssertEqual(Set(p.launches.map(\.label)).count, p.launches.count, "each run has its own files")
    }

    func testBothSystemsTimeTheSameSteps() {
        for steps in [1, 10, 17, 18, 20, 200] {
            let p = plan(worlds: [1], repeats: 1, steps: steps)
            let warmup = p.warmupSteps
            XCTAssertEqual(RunSummary.warmupSteps(steps: steps + warmup), warmup, "\(steps) steps")
            let lockstep = p.launches[0].arguments, torch = p.launches[1].arguments
            XCTAssertTrue(lockstep.contains("train.steps=\(steps + warmup)"), "\(lockstep)")
            XCTAssertEqual(torch.suffix(4), ["--steps", String(steps), "--warmup", String(warmup)])
        }
        XCTAssertEqual(plan(worlds: [1], steps: 200).warmupSteps, 3)
    }

    func testBindingAndOversubscription() {
        let p = plan(worlds: [2, 3], repeats: 1, cores: 2)
        let two = p.launches.first { $0.world == 2 }!, three = p.launches.first { $0.world == 3 }!
        XCTAssertEqual(Array(two.arguments.prefix(5)), ["/usr/bin/mpirun", "-np", "2", "--bind-to", "core"])
        XCTAssertFalse(two.oversubscribed)
        XCTAssertTrue(three.oversubscribed)
        XCTAssertTrue(three.arguments.contains("--oversubscribe"))
        XCTAssertEqual(p.launches.first { $0.system == .pytorch }!.arguments(port: 4242).suffix(2), ["--port", "4242"])
        XCTAssertFalse(p.launches.first { $0.system == .lockstep }!.arguments(port: 4242).contains("--port"))
    }

    private func run(_ system: ComparisonPlan.System, world: Int, samples: Double, rss: Double = 100,
                     kind: ComparisonPlan.Kind = .throughput, target: Double? = nil) -> ComparisonRun {
        ComparisonRun(system: system, kind: kind, world: world, repetition: 1, order: 1, samplesPerS: samples, stepMsMedian: 1000 / samples,
                      peakRssMb: rss, timeToTargetS: target, testAccuracy: 0.5, steps: 10, seconds: 1, loadAverage: nil, command: "")
    }

    func testMediansRatiosAndScalingEfficiency() {
        let runs = [
            run(.lockstep, world: 1, samples: 100), run(.pytorch, world: 1, samples: 50),
            run(.lockstep, world: 1, samples: 300), run(.pytorch, world: 1, samples: 70),
            run(.lockstep, world: 1, samples: 120), run(.pytorch, world: 1, samples: 60),
            run(.lockstep, world: 2, samples: 320), run(.pytorch, world: 2, samples: 90),
            run(.lockstep, world: 2, samples: 360), run(.pytorch, world: 2, samples: 110),
            run(.lockstep, world: 2, samples: 0, kind: .accuracy, target: 30), run(.pytorch, world: 2, samples: 0, kind: .accuracy, target: 60),
            run(.lockstep, world: 2, samples: 0, kind: .accuracy, target: nil), run(.pytorch, world: 2, samples: 0, kind: .accuracy, target: 50),
        ]
        let rows = ComparisonStatistics.rows(runs, worlds: [1, 2])
        let w1 = rows.first { $0.world == 1 && $0.metric == .samplesPerS }!
        XCTAssertEqual(w1.lockstep, ComparisonStatistics.Spread([120, 100, 300]))
        XCTAssertEqual(w1.lockstep?.median, 120)
        XCTAssertEqual(w1.lockstep?.min, 100)
        XCTAssertEqual(w1.lockstep?.max, 300)
        XCTAssertEqual(w1.ratio!, 2, accuracy: 1e-12)
        let w2 = rows.first { $0.world == 2 && $0.metric == .samplesPerS }!
        XCTAssertEqual(w2.lockstep?.median, 340, "an even count's median is the mean of the middle two")
        XCTAssertEqual(w2.ratio!, 340.0 / 100, accuracy: 1e-12)
        XCTAssertNil(rows.first { $0.world == 1 && $0.metric == .timeToTargetS }, "no accuracy runs at world 1")
        let tta = rows.first { $0.world == 2 && $0.metric == .timeToTargetS }!
        XCTAssertEqual(tta.lockstep?.n, 1)
        XCTAssertEqual(tta.lockstepRuns, 2, "a run that missed the target counts as a run without a value")
        XCTAssertEqual(tta.ratio!, 30.0 / 55, accuracy: 1e-12)
        let scaling = ComparisonStatistics.scaling(rows)
        XCTAssertEqual(scaling.count, 1)
        XCTAssertEqual(scaling[0].lockstep!, 340 / (2 * 120.0), accuracy: 1e-12)
        XCTAssertEqual(scaling[0].pytorch!, 100 / (2 * 60.0), accuracy: 1e-12)
        XCTAssertTrue(ComparisonStatistics.scaling(ComparisonStatistics.rows(runs, worlds: [2])).isEmpty, "no world 1, no efficiency")
    }
}
