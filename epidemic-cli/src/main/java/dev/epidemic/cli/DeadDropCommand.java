package dev.epidemic.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code epidemic dead drop}: deletes dead letters for good (their changes are not delivered again). */
@Command(name = "drop", mixinStandardHelpOptions = true,
        description = "Deletes dead letters for good: their changes are not handed to the handler again.")
final class DeadDropCommand implements Callable<Integer> {
    @ParentCommand
    DeadCommand dead;

    @Spec
    CommandSpec spec;

    @Mixin
    DeadLetterSelection selection;

    @Override
    public Integer call() {
        List<Long> ids = selection.ids();
        int count = dead.epidemic.database().admin().dropDeadLetters(selection.consumer(), ids);
        spec.commandLine().getOut().println("dropped " + DeadLetterSelection.count(count));
        return EpidemicCommand.OK;
    }
}
