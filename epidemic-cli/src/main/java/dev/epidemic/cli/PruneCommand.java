package dev.epidemic.cli;

import dev.epidemic.api.PruneResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code epidemic prune}: deletes the changes every consumer has passed. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = "Deletes the changes that every consumer has passed; a lagging consumer's changes stay.")
final class PruneCommand implements Callable<Integer> {
    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PruneResult result = epidemic.database().admin().prune();
        spec.commandLine().getOut().printf("deleted %d changes; retained %d for %d consumers%n",
                result.deleted(), result.retained(), result.consumers());
        return EpidemicCommand.OK;
    }
}
