package dev.epidemic.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code epidemic dead}: the dead letters, changes a handler kept failing on; see its subcommands. */
@Command(name = "dead", mixinStandardHelpOptions = true,
        description = {"Lists, replays or drops dead letters: changes a handler kept failing on after its retries."},
        subcommands = {DeadListCommand.class, DeadReplayCommand.class, DeadDropCommand.class})
final class DeadCommand implements Callable<Integer> {
    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("epidemic: missing command (list, replay or drop); see 'epidemic dead --help'");
        return EpidemicCommand.BAD_INPUT;
    }
}
