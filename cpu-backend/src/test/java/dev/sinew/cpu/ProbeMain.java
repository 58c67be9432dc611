package dev.sinew.cpu;

import dev.sinew.spi.BackendProvider;
import java.util.ServiceLoader;

/** Lists every provider and its probe, one per line; {@link CpuProviderTest} runs it in a JVM without the Vector API. */
public final class ProbeMain {
    private ProbeMain() {
    }

    public static void main(String[] args) {
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            System.out.println(p.name() + " -> " + p.probe());
        }
    }
}
