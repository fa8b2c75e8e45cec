import Foundation
import HeraldCore

/// Where command output goes: results on stdout, progress and prompts on stderr.
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// One JSON value on its own line.
    static func json(_ value: JSONValue) {
        var bytes = value.serialized()
        bytes.append(0x0A)
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// An API answer: JSON as-is on one line with `--json`, else indented JSON; nothing for null.
    static func answer(_ value: JSONValue, json: Bool) {
        if json || value.isNull {
            if !value.isNull { Output.json(value) }
            return
        }
        if let data = try? JSONSerialization.jsonObject(with: Data(value.serialized()), options: [.fragmentsAllowed]),
            let pretty = try? JSONSerialization.data(
                withJSONObject: data, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        {
            line(String(decoding: pretty, as: UTF8.self))
        } else {
            Output.json(value)
        }
    }

    /// Rows as aligned columns under a header.
    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        line(render(header))
        for row in rows { line(render(row)) }
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }
}
