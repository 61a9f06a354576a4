package dev.epidemic.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code epidemic dead replay}: asks the consumers to hand dead letters to their handlers again. A
 * running consumer does so within about a second, a stopped one when it starts; one that succeeds
 * disappears, one that fails again stays with its attempts counted.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Asks the consumers to hand these dead letters to their handlers again (a running consumer does so within about a second).",
                "A replayed dead letter disappears from the list; one that fails again stays, with its attempts counted."})
final class DeadReplayCommand implements Callable<Integer> {
    @ParentCommand
    DeadCommand dead;

    @Spec
    CommandSpec spec;

    @Mixin
    DeadLetterSelection selection;

    @Override
    public Integer call() {
        List<Long> ids = selection.ids();
        int count = dead.epidemic.database().admin().replayDeadLetters(selection.consumer(), ids);
        spec.commandLine().getOut().println("replay requested for " + DeadLetterSelection.count(count));
        return EpidemicCommand.OK;
    }
}
