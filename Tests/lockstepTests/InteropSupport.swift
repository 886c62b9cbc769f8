import Foundation
import TestSupport
import XCTest

/// The interpreters of the interop checks (scripts/interop), each a real framework: PyTorch
/// 1.13 in Debian's /usr/bin/python3 (with the safetensors package of the venv's torch-path
/// on PYTHONPATH), and Keras 3 on TensorFlow, JAX and TensorBoard in .venv-interop, which
/// scripts/install-deps --test (scripts/install-interop) makes once per machine.
enum InteropPython {
    static let venv = Lockstep.path(".venv-interop")

    /// The interpreter for `framework` ("torch", "keras", "jax", "numpy", "tensorboard") and its environment.
    static func interpreter(_ framework: String) -> (path: String, environment: [String: String]) {
        switch framework {
        // numpy runs in Debian's python3 with its numpy 1.24, the older stack the export serves.
        case "torch", "numpy": ("/usr/bin/python3", ["PYTHONPATH": venv + "/torch-path"])
        default: (venv + "/bin/python", ["TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"])
        }
    }

    /// Fails the test (it does not skip) when the venv is missing.
    static func requireVenv(file: StaticString = #filePath, line: UInt = #line) throws {
        guard FileManager.default.isExecutableFile(atPath: venv + "/bin/python"),
              FileManager.default.fileExists(atPath: venv + "/torch-path/safetensors") else {
            XCTFail("\(venv) is missing: run scripts/install-deps --test (scripts/install-interop)", file: file, line: line)
            throw NSError(domain: "interop", code: 1)
        }
    }

    /// Runs scripts/interop/`script` with `arguments` in `framework`'s interpreter and returns
    /// the JSON object of its last stdout line.
    static func run(_ script: String, _ arguments: [String], framework: String, timeout: Double = 600,
                    file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let (python, environment) = interpreter(framework)
        let result = runProcess(python, [Lockstep.path("scripts/interop/" + script)] + arguments,
                                environment: environment.merging(Lockstep.environment) { a, _ in a }, timeout: timeout)
        XCTAssertFalse(result.timedOut, "\(script) \(framework) timed out\n\(result.output)", file: file, line: line)
        let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else {
            XCTFail("\(script) in \(framework): no JSON result\n\(result.output)", file: file, line: line)
            throw NSError(domain: "interop", code: 2)
        }
        return object
    }
}

/// A safetensors file written by the tests themselves, of any dtype, for the bad imports.
enum ForeignFile {
    struct Tensor {
        var name: String
        var dtype = "F32"
        var shape: [Int]
        /// The values of an F32 tensor (zeros when nil); other dtypes are zero bytes.
        var values: [Float]? = nil
    }

    static func write(_ tensors: [Tensor], to path: String) throws {
        let sizes = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8]
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var data: [UInt8] = []
        for t in tensors {
            let count = t.shape.reduce(1, *)
            let begin = data.count
            if let values = t.values {
                precondition(t.dtype == "F32" && values.count == count)
                for v in values { data += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
            } else {
                data += [UInt8](repeating: 0, count: count * sizes[t.dtype]!)
            }
            header[t.name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [begin, data.count]]
        }
        var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while json.count % 8 != 0 { json.append(0x20) }
        let length = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) }
        try Data(length + json + data).write(to: URL(fileURLWithPath: path))
    }
}
