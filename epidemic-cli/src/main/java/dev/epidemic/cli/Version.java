package dev.epidemic.cli;

import picocli.CommandLine.IVersionProvider;

/** The version the jar's manifest states; a build from the source tree has none. */
final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Version.class.getPackage().getImplementationVersion();
        return new String[] {"epidemic " + (version != null ? version : "(development build)")};
    }
}
