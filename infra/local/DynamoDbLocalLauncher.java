import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Runs DynamoDB Local with what its command line cannot say: listen on PORTOLAN_BIND_HOST
 * (127.0.0.1) only, where it listens on every interface otherwise; and exit with its parent
 * however the parent dies (stdin is a pipe from the parent: end of file means the parent is gone).
 * Arguments are DynamoDB Local's own.
 */
public final class DynamoDbLocalLauncher {
  public static void main(String[] args) throws Exception {
    String host = System.getenv().getOrDefault("PORTOLAN_BIND_HOST", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    // The Jetty server is private and built with a port only; its connector takes a host until started.
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      if (connector instanceof ServerConnector) ((ServerConnector) connector).setHost(host);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        proxy.stop();
      } catch (Exception ignored) {
        // Exiting anyway.
      }
    }));
    proxy.start();
    if ("stdin".equals(System.getenv("PORTOLAN_PARENT_PIPE"))) {
      while (System.in.read() != -1) {
        // Nothing is ever written; reading only waits for the parent to go away.
      }
      System.exit(0);
    }
    proxy.join();
  }
}
