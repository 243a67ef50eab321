// Readiness probe used by deploy/local/stack.sh: succeeds once the broker answers a metadata
// request (DescribeCluster lists at least one broker and ListTopics works).
// Compiled at install time against the Kafka client jars in <stack>/lib/kafka.
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.common.Node;

import java.util.Collection;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

public class KafkaReady {
    public static void main(String[] args) {
        String bootstrap = args.length > 0 ? args[0] : "127.0.0.1:9092";
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "4000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "6000");
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "newsflow-stack-probe");
        try (Admin admin = Admin.create(p)) {
            DescribeClusterResult cluster = admin.describeCluster();
            Collection<Node> nodes = cluster.nodes().get(6, TimeUnit.SECONDS);
            if (nodes.isEmpty()) {
                System.err.println("kafka: no brokers registered yet");
                System.exit(1);
            }
            int topics = admin.listTopics().names().get(6, TimeUnit.SECONDS).size();
            System.out.println("kafka ready: cluster " + cluster.clusterId().get(6, TimeUnit.SECONDS)
                + ", brokers " + nodes.size() + ", topics " + topics);
        } catch (Exception e) {
            System.err.println("kafka not ready: " + e);
            System.exit(1);
        }
    }
}
