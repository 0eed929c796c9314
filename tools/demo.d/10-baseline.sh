# Row "No mobility (baseline)": etc/topologies/tour.yml without any mobility daemon.  The mobile
# keeps its cell1 address; once it is on cell2 nothing routes to it there and its default
# gateway is out of reach, so the UDP stream stops and the TCP connection times out.
tour_baseline() {
  demo_up etc/topologies/tour.yml || return 1
  demo_measure --mobile mn --cn cn --mobile-addr 10.90.1.10 --cn-addr 10.90.0.10 \
    --cells "cell1 cell2" --note "no mobility support: the address belongs to cell1"
}
demo_row "No mobility (baseline)" tour_baseline
