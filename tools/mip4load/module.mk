# mip4load: Mobile IPv4 registration load generator for bench/had.sh (authenticated Registration
# Requests from many mobiles with co-located care-of addresses, straight to had).
$(eval $(call roam_prog,mip4load,tools/mip4load,))
