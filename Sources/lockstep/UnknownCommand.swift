import ArgumentParser
import RunConfig

/// A word where a (sub)command is expected that names none, found before the argument parser
/// sees it: the parser would report the options that follow it instead (`lockstep trian
/// --config x` as "Unknown option '--config'").
struct UnknownCommand {
    let message: String
    let hint: String

    /// The first argument, walking down the command tree, that stands where a subcommand is
    /// expected and names none; nil when every such word is a command (or there is none).
    static func find(in arguments: [String], root: ParsableCommand.Type) -> UnknownCommand? {
        var command = root
        var path = [root._commandName]
        for word in arguments {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !word.hasPrefix("-") else { return nil }
            let names = subcommands.map { $0._commandName }
            guard let index = names.firstIndex(of: word) else {
                if word == "help" { return nil }
                let hint = Suggestion.closest(to: word, among: names).map { " (did you mean '\($0)'?)" } ?? ""
                let name = path.joined(separator: " ")
                return UnknownCommand(message: "unknown command '\(word)'\(hint)",
                                      hint: "Commands of \(name): \(names.joined(separator: ", "))\n  See '\(name) --help' for more information.")
            }
            command = subcommands[index]
            path.append(word)
        }
        return nil
    }
}
