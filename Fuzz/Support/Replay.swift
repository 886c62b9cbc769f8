import Foundation

/// What every fuzz target's executable does in an ordinary build, where libFuzzer is absent:
/// feeds `body` each input file, so that the seed corpus and the regression inputs run as a
/// plain check, and a crash file from libFuzzer can be reproduced in a debug build.
///
/// The files are those named on the command line (files, or folders whose files are all read),
/// or, with no arguments, those under whichever of `defaultFolders` (relative to the package's
/// root) exist. Prints
/// how many inputs ran; a crash in `body` stops the process like any crash.
public func replayInputs(defaultFolders: [String], body: ([UInt8]) -> Void) {
    let arguments = Array(CommandLine.arguments.dropFirst())
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
    let paths = arguments.isEmpty
        ? defaultFolders.map { root.appendingPathComponent($0).path }.filter { FileManager.default.fileExists(atPath: $0) }
        : arguments
    var count = 0
    for path in paths {
        for file in inputFiles(at: path) {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                exit(2)
            }
            body([UInt8](data))
            count += 1
        }
    }
    print("replayed \(count) inputs without a crash")
}

/// `path` itself if it is a file; the files under it, sorted, if it is a folder.
private func inputFiles(at path: String) -> [String] {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
        FileHandle.standardError.write(Data("no such file or folder: \(path)\n".utf8))
        exit(2)
    }
    guard isFolder.boolValue else { return [path] }
    let names = (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []
    return names.sorted().map { path + "/" + $0 }.filter {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) && !isFolder.boolValue
    }
}
