package dev.epidemic.cli;

import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.RowFilterInfo;
import dev.epidemic.api.WatchedTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code epidemic list}: the watched tables, their keys and captured columns. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = {"Lists the watched tables with their key and captured columns, one per line.",
                "A table whose capture is broken (a capture trigger or column dropped) is reported on stderr with its repair; the exit code is then 1."})
final class ListCommand implements Callable<Integer> {
    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print a JSON array of {table, schema, name, key, columns, filters}.")
    boolean json;

    @Override
    public Integer call() {
        EpidemicAdmin admin = epidemic.database().admin();
        List<WatchedTable> tables = admin.list();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(tables.stream().map(ListCommand::asJson).toList()));
        } else {
            for (WatchedTable table : tables) {
                out.printf("%s  key: %s  columns: %s%n", table.qualifiedName(), String.join(", ", table.keyColumns()),
                        String.join(", ", table.columns()));
                for (RowFilterInfo filter : table.filters()) {
                    out.printf("  where %s  (%s)%n", filter.predicate(), registrants(filter));
                }
            }
        }
        out.flush();
        return BrokenCapture.report(admin, spec.commandLine().getErr());
    }

    private static Map<String, Object> asJson(WatchedTable table) {
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("table", table.qualifiedName());
        object.put("schema", table.schema());
        object.put("name", table.name());
        object.put("key", table.keyColumns());
        object.put("columns", table.columns());
        object.put("filters", table.filters().stream().map(f -> {
            Map<String, Object> filter = new LinkedHashMap<>();
            filter.put("where", f.predicate());
            filter.put("table_wide", f.tableWide());
            filter.put("consumers", f.consumers());
            return filter;
        }).toList());
        return object;
    }

    /** Who registered a filter: "watch" for the table-wide filter, then the consumers. */
    private static String registrants(RowFilterInfo filter) {
        List<String> who = new java.util.ArrayList<>();
        if (filter.tableWide()) {
            who.add("watch --where");
        }
        filter.consumers().forEach(c -> who.add("consumer " + c));
        return String.join(", ", who);
    }
}
