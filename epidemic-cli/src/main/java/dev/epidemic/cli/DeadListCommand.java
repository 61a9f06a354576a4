package dev.epidemic.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.epidemic.api.DeadLetter;
import dev.epidemic.api.Epidemic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code epidemic dead list}: the dead letters, oldest first, as a table or as JSON. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "Lists dead letters, oldest first: the change, the handler, the last error, the attempts and when they failed.")
final class DeadListCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] HEADER = {"ID", "CONSUMER", "CHANGE", "TABLE", "OP", "KEY", "ATTEMPTS", "LAST FAILURE", "REPLAY", "ERROR"};

    @ParentCommand
    DeadCommand dead;

    @Spec
    CommandSpec spec;

    @Option(names = "--consumer", paramLabel = "NAME", description = "Only this consumer's dead letters (default: every consumer's).")
    String consumer;

    @Option(names = "--json", description = "Print a JSON array of {id, consumer, handler, change, error, attempts, first_failure, last_failure, replay_requested}.")
    boolean json;

    @Override
    public Integer call() {
        List<DeadLetter> letters = dead.epidemic.database().admin().deadLetters(consumer);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(letters.stream().map(DeadListCommand::asJson).toList()));
        } else if (letters.isEmpty()) {
            out.println("no dead letters");
        } else {
            printTable(out, letters);
        }
        return EpidemicCommand.OK;
    }

    private static Map<String, Object> asJson(DeadLetter letter) {
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("id", letter.id());
        object.put("consumer", letter.consumer());
        object.put("handler", letter.handler());
        object.put("change", changeJson(letter));
        object.put("error", letter.error());
        object.put("attempts", letter.attempts());
        object.put("first_failure", letter.firstFailure().toString());
        object.put("last_failure", letter.lastFailure().toString());
        object.put("replay_requested", letter.replayRequested());
        return object;
    }

    /** The change exactly as {@code tail} prints it. */
    private static JsonNode changeJson(DeadLetter letter) {
        try {
            return JSON.readTree(Epidemic.toJson(letter.change()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void printTable(PrintWriter out, List<DeadLetter> letters) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        for (DeadLetter letter : letters) {
            rows.add(new String[] {Long.toString(letter.id()), letter.consumer(), Long.toString(letter.change().id()),
                    letter.change().table(), letter.change().operation().name(),
                    letter.change().key() == null ? "-" : Json.write(letter.change().key()), Integer.toString(letter.attempts()),
                    letter.lastFailure().toString(), letter.replayRequested() ? "requested" : "-", letter.error()});
        }
        int[] widths = new int[HEADER.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == 0 ? "" : "  ").append(String.format("%-" + widths[i] + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
