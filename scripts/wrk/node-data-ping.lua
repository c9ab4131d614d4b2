-- wrk: node data from 1 000 Pis with two nodes each (POST /iot/ping), one device per request in turn.
-- Shared by scripts/bench.sh and scripts/replica-bench.sh.
local sent = 0
local body = '{"device_id":"rpi-%d","voltage":3.92,"battery_level":72.4,"state":"IDLE","connected_nodes":[{"uid":"NODE_A","voltage":3.92},{"uid":"NODE_B","voltage":3.61}],"nodes_detail":[{"uid":"NODE_A","ip":"192.168.1.101","voltage":3.92,"soc":72.4,"state":"IDLE"},{"uid":"NODE_B","ip":"192.168.1.102","voltage":3.61,"soc":28.1,"state":"IDLE"}]}'
request = function()
  sent = sent + 1
  return wrk.format("POST", "/iot/ping", {["Content-Type"] = "application/json"}, string.format(body, sent % 1000))
end
