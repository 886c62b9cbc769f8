import Foundation

/// Lines for the user, written straight to the file descriptor: under mpirun stdout is a
/// pipe, and buffered output would arrive only at exit.
public enum Console {
    public static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
