package dev.epidemic.cli;

import dev.epidemic.api.EpidemicAdmin;

import java.io.PrintWriter;
import java.util.List;

/**
 * Reports watched tables whose capture is broken (a capture trigger or a captured column gone), one
 * line each on stderr with the command that repairs it, so that {@code list} and {@code status}, the
 * commands a monitor runs, fail (exit 1) while changes are being missed.
 */
final class BrokenCapture {
    private BrokenCapture() {
    }

    static int report(EpidemicAdmin admin, PrintWriter err) {
        List<String> problems = admin.captureProblems();
        for (String problem : problems) {
            err.println("epidemic: " + problem);
        }
        err.flush();
        return problems.isEmpty() ? EpidemicCommand.OK : EpidemicCommand.FAILURE;
    }
}
