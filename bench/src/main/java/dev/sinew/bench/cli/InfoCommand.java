package dev.sinew.bench.cli;

import dev.sinew.Sinew;
import dev.sinew.bench.Main;
import dev.sinew.spi.BackendOptions;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code sinew info}: the JDK, the CPU's vector width and thread count, every backend found with
 * whether it is usable (and why not), which one a plain run would choose, and what each usable
 * backend says about itself.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "List the backends found, which one is chosen by default, and facts about this machine.")
public final class InfoCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Threads to describe the backends with (default: 0 = one per processor).")
    int threads;

    @Override
    public Integer call() {
        PrintStream out = main.out();
        Runtime.Version v = Runtime.version();
        out.printf(Locale.ROOT, "JDK:        %s (%s, %s) at %s%n", v, System.getProperty("java.vendor", "?"),
                System.getProperty("java.vm.name", "?"), System.getProperty("java.home", "?"));
        out.printf(Locale.ROOT, "OS:         %s %s (%s)%n", System.getProperty("os.name", "?"),
                System.getProperty("os.version", "?"), System.getProperty("os.arch", "?"));
        int procs = Runtime.getRuntime().availableProcessors();
        out.printf(Locale.ROOT, "processors: %d available to the JVM; max heap %,d MiB%n", procs,
                Runtime.getRuntime().maxMemory() >> 20);
        Optional<Integer> bits = VectorInfo.preferredFloatBits();
        out.println("vector API: " + bits.map(b -> String.format(Locale.ROOT,
                "jdk.incubator.vector present, preferred species %d bits (%d floats)", b, b / 32))
                .orElse("jdk.incubator.vector not added to this JVM (run with --add-modules jdk.incubator.vector)"));

        List<Sinew.ProviderStatus> providers = Sinew.providers();
        out.println("backends (highest priority first):");
        if (providers.isEmpty()) {
            out.println("  none found on the class path");
        }
        int width = providers.stream().mapToInt(p -> p.name().length()).max().orElse(4);
        for (Sinew.ProviderStatus p : providers) {
            out.printf(Locale.ROOT, "  %-" + width + "s  priority %3d  %s%n", p.name(), p.priority(), p.availability());
        }
        out.println("default:    " + defaultChoice(providers));

        BackendOptions options = BackendOptions.defaults().withThreads(threads);
        for (Sinew.ProviderStatus p : providers) {
            if (!p.availability().available()) {
                continue;
            }
            out.println(p.name() + ":");
            try (Sinew sn = Sinew.use(p.name(), options)) {
                Map<String, String> facts = sn.backend().describe();
                int w = facts.keySet().stream().mapToInt(String::length).max().orElse(0);
                facts.forEach((k, val) -> out.printf(Locale.ROOT, "  %-" + w + "s  %s%n", k, val));
            } catch (RuntimeException | LinkageError e) {
                out.println("  could not be opened: " + e.getMessage());
            }
        }
        out.flush();
        return 0;
    }

    /** What {@code Sinew.open()} would pick, and why. */
    static String defaultChoice(List<Sinew.ProviderStatus> providers) {
        String prop = System.getProperty("sinew.backend");
        if (prop != null && !prop.isBlank()) {
            return prop.trim() + " (from -Dsinew.backend)";
        }
        String env = System.getenv("SINEW_BACKEND");
        if (env != null && !env.isBlank()) {
            return env.trim() + " (from SINEW_BACKEND)";
        }
        return providers.stream().filter(p -> p.availability().available()).findFirst()
                .map(p -> p.name() + " (the highest-priority available backend; choose with --backend,"
                        + " -Dsinew.backend or SINEW_BACKEND)")
                .orElse("none: no backend is available");
    }
}
