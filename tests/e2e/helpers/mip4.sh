# shellcheck shell=bash
# Sections of the MIPv4 agents' configs shared by tests/e2e/fad.sh, fad-dataplane.sh and mnd.sh
# (sourced by them; not a test).  They use the scripts' names: HOME (the mobile's home address),
# COA1 and COA2 (the care-of addresses of fa1 and fa2), KMNHA, KMNFA, KFA1 and KFA2 (the keys).
# mip4_had_sas [FA1_KEY]: had.yaml's mobiles (m: SPI 1000, KMNHA, HOME) and foreign_agents (fa1:
# COA1, SPI 3001, FA1_KEY (default KFA1); fa2: COA2, SPI 3002, KFA2).
mip4_had_sas() {
  cat <<EOC
mobiles:
  - name: m
    spi: 1000
    key: $KMNHA
    home: [$HOME]
foreign_agents:
  - name: fa1
    address: $COA1
    spi: 3001
    key: ${1:-$KFA1}
  - name: fa2
    address: $COA2
    spi: 3002
    key: $KFA2
EOC
}
# mip4_fad_sas N HA KEY: fadN.yaml's home_agents (HA: SPI 300N, KEY) and mobiles (HOME: SPI 4000,
# KMNFA).
mip4_fad_sas() {
  cat <<EOC
home_agents:
  - address: $2
    spi: 300$1
    key: $3
mobiles:
  - home: $HOME
    spi: 4000
    key: $KMNFA
EOC
}
